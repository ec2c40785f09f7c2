//! PDFs of documents: rendered from the document's lines with `pdf-writer` (typst's small,
//! dependency-free PDF writer), or attached from a file and checked.
//!
//! Rendering uses the PDF standard fonts (Helvetica, Helvetica-Bold) with WinAnsi encoding, so
//! nothing is embedded and a page is a few kilobytes; characters outside Windows-1252 (e.g.
//! Cyrillic, CJK) print as `?` — attach a PDF made elsewhere for those. Content streams are left
//! uncompressed: the text of the document (its number, its lines) can be found in the bytes.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::currency;

/// Meta's limit for a document sent over WhatsApp.
pub const MAX_PDF_BYTES: u64 = 100 * 1024 * 1024;

/// What the renderer prints.
#[derive(Debug, Clone)]
pub struct Sheet<'a> {
    /// "Invoice", "Credit note"…
    pub title: &'a str,
    pub number: &'a str,
    pub date: &'a str,
    pub status: &'a str,
    /// "Client" or "Lead", and its name.
    pub party_label: &'a str,
    pub party: &'a str,
    pub issuer: &'a str,
    pub currency: &'a str,
    pub digits: u32,
    pub lines: &'a [SheetLine<'a>],
    pub total: i64,
    pub notes: &'a str,
}

#[derive(Debug, Clone)]
pub struct SheetLine<'a> {
    pub description: &'a str,
    pub quantity_milli: i64,
    pub unit_price: i64,
    pub amount: i64,
}

/// Text in the standard fonts' WinAnsi encoding; unmappable characters become `?`.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8a,
            '‹' => 0x8b,
            'Œ' => 0x8c,
            'Ž' => 0x8e,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9a,
            '›' => 0x9b,
            'œ' => 0x9c,
            'ž' => 0x9e,
            'Ÿ' => 0x9f,
            '\t' | '\n' | '\r' => b' ',
            _ => b'?',
        })
        .collect()
}

/// Cuts `s` to `max` characters, marking the cut with an ellipsis.
fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn quantity(milli: i64) -> String {
    let s = currency::format(milli, 3);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Helvetica's average glyph width is about half the font size: enough to right-align numbers.
fn approx_width(s: &str, size: f32) -> f32 {
    s.chars()
        .map(|c| match c {
            '0'..='9' | '.' | ',' | ' ' => 0.556,
            _ => 0.6,
        })
        .sum::<f32>()
        * size
}

struct Writer {
    content: Content,
}

impl Writer {
    fn text(&mut self, font: &[u8], size: f32, x: f32, y: f32, s: &str) {
        let bytes = win_ansi(s);
        self.content
            .begin_text()
            .set_font(Name(font), size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    fn right(&mut self, font: &[u8], size: f32, right: f32, y: f32, s: &str) {
        self.text(font, size, right - approx_width(s, size), y, s);
    }

    fn rule(&mut self, y: f32) {
        self.content
            .set_line_width(0.5)
            .move_to(MARGIN, y)
            .line_to(WIDTH - MARGIN, y)
            .stroke();
    }
}

const WIDTH: f32 = 595.0; // A4, in points
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const ROW: f32 = 16.0;
const REGULAR: &[u8] = b"F1";
const BOLD: &[u8] = b"F2";

/// Renders the sheet as a PDF (A4, as many pages as the lines need).
pub fn render(sheet: &Sheet) -> Vec<u8> {
    let money = |v: i64| format!("{} {}", currency::format(v, sheet.digits), sheet.currency);
    let mut pages: Vec<Content> = Vec::new();
    let mut w = Writer {
        content: Content::new(),
    };
    let mut y = HEIGHT - MARGIN - 10.0;

    // Header.
    w.text(BOLD, 22.0, MARGIN, y, &sheet.title.to_uppercase());
    w.right(
        REGULAR,
        10.0,
        WIDTH - MARGIN,
        y + 8.0,
        &fit(sheet.issuer, 50),
    );
    y -= 28.0;
    w.text(BOLD, 11.0, MARGIN, y, &format!("No. {}", sheet.number));
    w.right(
        REGULAR,
        10.0,
        WIDTH - MARGIN,
        y,
        &format!("Date: {}", sheet.date),
    );
    y -= ROW;
    w.text(
        REGULAR,
        10.0,
        MARGIN,
        y,
        &format!("{}: {}", sheet.party_label, fit(sheet.party, 70)),
    );
    w.right(
        REGULAR,
        10.0,
        WIDTH - MARGIN,
        y,
        &format!("Status: {}", sheet.status),
    );
    y -= 30.0;

    let (qty_r, price_r, amount_r) = (340.0, 440.0, WIDTH - MARGIN);
    let table_head = |w: &mut Writer, y: f32| {
        w.text(BOLD, 10.0, MARGIN, y, "Description");
        w.right(BOLD, 10.0, qty_r, y, "Qty");
        w.right(BOLD, 10.0, price_r, y, "Unit price");
        w.right(BOLD, 10.0, amount_r, y, "Amount");
        w.rule(y - 5.0);
    };
    table_head(&mut w, y);
    y -= ROW + 4.0;
    for line in sheet.lines {
        if y < MARGIN + 80.0 {
            w.text(
                REGULAR,
                9.0,
                MARGIN,
                MARGIN - 20.0,
                "continued on the next page",
            );
            pages.push(std::mem::replace(&mut w.content, Content::new()));
            y = HEIGHT - MARGIN - 10.0;
            w.text(
                BOLD,
                11.0,
                MARGIN,
                y,
                &format!("{} {} (continued)", sheet.title, sheet.number),
            );
            y -= 30.0;
            table_head(&mut w, y);
            y -= ROW + 4.0;
        }
        w.text(REGULAR, 10.0, MARGIN, y, &fit(line.description, 44));
        w.right(REGULAR, 10.0, qty_r, y, &quantity(line.quantity_milli));
        w.right(
            REGULAR,
            10.0,
            price_r,
            y,
            &currency::format(line.unit_price, sheet.digits),
        );
        w.right(
            REGULAR,
            10.0,
            amount_r,
            y,
            &currency::format(line.amount, sheet.digits),
        );
        y -= ROW;
    }
    w.rule(y + ROW - 5.0);
    y -= 6.0;
    w.text(BOLD, 12.0, price_r - 100.0, y, "Total");
    w.right(BOLD, 12.0, amount_r, y, &money(sheet.total));
    y -= 36.0;
    if !sheet.notes.trim().is_empty() {
        w.text(BOLD, 10.0, MARGIN, y, "Notes");
        y -= ROW;
        for part in sheet.notes.lines().take(12) {
            w.text(REGULAR, 10.0, MARGIN, y, &fit(part, 95));
            y -= ROW - 2.0;
        }
    }
    pages.push(w.content);

    // Objects: 1 catalog, 2 page tree, 3 regular font, 4 bold font, 5 info, then page/content pairs.
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let (f1, f2, info) = (Ref::new(3), Ref::new(4), Ref::new(5));
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(6 + 2 * i as i32))
        .collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);
    for (i, content) in pages.into_iter().enumerate() {
        let content_id = Ref::new(7 + 2 * i as i32);
        let mut page = pdf.page(page_ids[i]);
        page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        page.parent(tree);
        page.contents(content_id);
        page.resources()
            .fonts()
            .pair(Name(REGULAR), f1)
            .pair(Name(BOLD), f2);
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    pdf.type1_font(f1)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(f2)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let title = format!("{} {}", sheet.title, sheet.number);
    pdf.document_info(info)
        .title(TextStr(&title))
        .creator(TextStr("CRMConnect WhatsApp"));
    pdf.finish()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not a PDF (it does not start with %PDF-)")]
    NotPdf,
    #[error("the PDF is {mb} MB; WhatsApp documents can be at most 100 MB")]
    TooLarge { mb: u64 },
}

/// Checks a PDF to attach: the `%PDF-` signature, and Meta's 100 MB limit for documents.
pub fn check(head: &[u8], len: u64) -> Result<(), PdfError> {
    if len == 0 {
        return Err(PdfError::Empty);
    }
    if len > MAX_PDF_BYTES {
        return Err(PdfError::TooLarge {
            mb: len.div_ceil(1024 * 1024),
        });
    }
    // Some writers put a few bytes before the signature; readers accept it within the first 1 KB.
    let window = &head[..head.len().min(1024)];
    if !window.windows(5).any(|w| w == b"%PDF-") {
        return Err(PdfError::NotPdf);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Checks the file's structure: header, trailer, and every cross-reference entry pointing at
    /// the object it names. Returns the number of objects.
    pub(crate) fn assert_well_formed(pdf: &[u8]) -> usize {
        assert!(pdf.starts_with(b"%PDF-"), "header");
        // Offsets are bytes: map every byte to one char so they stay put (WinAnsi text is not UTF-8).
        let text: String = pdf.iter().map(|&b| b as char).collect();
        assert!(text.trim_end().ends_with("%%EOF"), "trailer");
        let start: usize = text
            .rsplit("startxref")
            .next()
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect("startxref offset");
        let at = |offset: usize| -> String {
            pdf[offset..].iter().take(40).map(|&b| b as char).collect()
        };
        assert!(
            at(start).starts_with("xref"),
            "startxref points at the xref table"
        );
        let xref: String = pdf[start..].iter().map(|&b| b as char).collect();
        let mut lines = xref.lines().skip(1);
        let count: usize = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .expect("xref count");
        for (obj, entry) in lines.take(count).enumerate() {
            if entry.trim_end().ends_with('f') {
                continue;
            }
            let offset: usize = entry[..10].parse().expect("offset");
            assert!(
                at(offset).starts_with(&format!("{obj} 0 obj")),
                "object {obj} at offset {offset}"
            );
        }
        count
    }

    fn sheet<'a>(lines: &'a [SheetLine<'a>]) -> Sheet<'a> {
        Sheet {
            title: "Invoice",
            number: "INV-0042",
            date: "2026-11-25",
            status: "sent",
            party_label: "Client",
            party: "Acme Café",
            issuer: "Sandbox",
            currency: "EUR",
            digits: 2,
            lines,
            total: 1234,
            notes: "Thank you",
        }
    }

    #[test]
    fn a_rendered_pdf_is_well_formed_and_holds_the_number_and_lines() {
        let lines = [SheetLine {
            description: "Consulting – day rate",
            quantity_milli: 1500,
            unit_price: 80000,
            amount: 120000,
        }];
        let pdf = render(&sheet(&lines));
        assert!(assert_well_formed(&pdf) >= 7);
        let text = String::from_utf8_lossy(&pdf);
        for needle in [
            "(No. INV-0042)",
            "(1.5)",
            "(800.00)",
            "(1,200.00)",
            "(12.34 EUR)",
            "/Helvetica",
        ] {
            assert!(text.contains(needle), "{needle}");
        }
        // Text beyond ASCII is written as a hex string of WinAnsi bytes ("é" is E9, "–" is 96).
        let hex = |s: &[u8]| s.iter().map(|b| format!("{b:02X}")).collect::<String>();
        let upper = text.to_uppercase();
        assert!(
            upper.contains(&hex(b"Client: Acme Caf\xe9")),
            "party in WinAnsi"
        );
        assert!(
            upper.contains(&hex(b"Consulting \x96 day rate")),
            "dash in WinAnsi"
        );
    }

    #[test]
    fn many_lines_flow_onto_more_pages() {
        let lines: Vec<SheetLine> = (0..90)
            .map(|_| SheetLine {
                description: "Item",
                quantity_milli: 1000,
                unit_price: 100,
                amount: 100,
            })
            .collect();
        let pdf = render(&sheet(&lines));
        assert_well_formed(&pdf);
        let text = String::from_utf8_lossy(&pdf);
        let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
        assert_eq!(pages, 3);
        assert!(
            text.contains("(Invoice INV-0042 (continued))"),
            "running head"
        );
    }

    #[test]
    fn attached_files_must_be_pdfs_within_metas_limit() {
        assert_eq!(check(b"", 0), Err(PdfError::Empty));
        assert_eq!(check(b"PK\x03\x04 a zip", 10), Err(PdfError::NotPdf));
        assert_eq!(check(b"%PDF-1.7\n", 9), Ok(()));
        assert_eq!(
            check(b"%PDF-1.7\n", MAX_PDF_BYTES + 1),
            Err(PdfError::TooLarge { mb: 101 })
        );
        assert!(
            PdfError::TooLarge { mb: 101 }
                .to_string()
                .contains("100 MB")
        );
    }

    #[test]
    fn unmappable_characters_become_question_marks() {
        assert_eq!(win_ansi("a€ж"), vec![b'a', 0x80, b'?']);
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(quantity(1500), "1.5");
        assert_eq!(quantity(2000), "2");
    }
}
