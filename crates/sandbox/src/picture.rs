//! Pictures the sandbox draws itself (no network, no assets): a profile picture per number —
//! coloured square, white initials in an 8×8 bitmap font scaled up — and the small images that
//! simulated customers "send".

use super::error::SandboxError;

/// Side of the profile pictures, in pixels.
pub const SIZE: u32 = 192;

/// A `SIZE`×`SIZE` PNG: `rgb` background with `initials` (up to 3 ASCII characters) in white.
pub fn initials_png(initials: &str, rgb: [u8; 3]) -> Result<Vec<u8>, SandboxError> {
    let glyphs: Vec<[u8; 8]> = initials
        .chars()
        .filter(char::is_ascii)
        .take(3)
        .map(|c| font8x8::legacy::BASIC_LEGACY[c.to_ascii_uppercase() as usize])
        .collect();
    let scale = if glyphs.len() >= 3 { 6 } else { 8 };
    let text_w = glyphs.len() as u32 * 8 * scale;
    let text_h = 8 * scale;
    let left = (SIZE - text_w) / 2;
    let top = (SIZE - text_h) / 2;

    let mut pixels = Vec::with_capacity((SIZE * SIZE * 3) as usize);
    for y in 0..SIZE {
        for x in 0..SIZE {
            let ink = x >= left && x < left + text_w && y >= top && y < top + text_h && {
                let gx = (x - left) / scale;
                let glyph = glyphs[(gx / 8) as usize];
                let row = glyph[((y - top) / scale) as usize];
                row & (1 << (gx % 8)) != 0
            };
            pixels.extend_from_slice(if ink { &[255, 255, 255] } else { &rgb });
        }
    }
    encode(SIZE, SIZE, &pixels)
}

/// A small solid-colour PNG, for media that simulated customers send.
pub fn solid_png(width: u32, height: u32, rgb: [u8; 3]) -> Result<Vec<u8>, SandboxError> {
    let pixels: Vec<u8> = std::iter::repeat_n(rgb, (width * height) as usize)
        .flatten()
        .collect();
    encode(width, height, &pixels)
}

fn encode(width: u32, height: u32, rgb: &[u8]) -> Result<Vec<u8>, SandboxError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(rgb)?;
        writer.finish()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("valid png");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("frame");
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn draws_a_real_png_with_initials_on_the_background() {
        let png = initials_png("SA", [0x1f, 0x7a, 0x4d]).unwrap();
        assert!(png.starts_with(PNG_MAGIC));
        let (w, h, pixels) = decode(&png);
        assert_eq!((w, h), (SIZE, SIZE));
        assert_eq!(&pixels[..3], &[0x1f, 0x7a, 0x4d], "corner is background");
        let white = pixels.chunks(3).filter(|p| p == &[255, 255, 255]).count();
        assert!(white > 500, "initials are drawn ({white} white pixels)");
    }

    #[test]
    fn different_numbers_get_different_pictures() {
        let a = initials_png("SA", [0x1f, 0x7a, 0x4d]).unwrap();
        let b = initials_png("SU", [0x2b, 0x4c, 0x9a]).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn solid_png_decodes() {
        let (w, h, pixels) = decode(&solid_png(4, 3, [1, 2, 3]).unwrap());
        assert_eq!((w, h), (4, 3));
        assert_eq!(&pixels[..6], &[1, 2, 3, 1, 2, 3]);
    }
}
