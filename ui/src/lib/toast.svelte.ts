// Short messages that appear briefly in the corner of the window: success, or a failure that
// has no form to be shown next to.

export interface Toast {
  id: number;
  kind: "success" | "error";
  message: string;
}

const LIFETIME_MS = { success: 4000, error: 8000 } as const;

let nextId = 1;
export const toasts: Toast[] = $state([]);

export function dismissToast(id: number): void {
  const index = toasts.findIndex((t) => t.id === id);
  if (index >= 0) toasts.splice(index, 1);
}

function push(kind: Toast["kind"], message: string): void {
  const id = nextId++;
  toasts.push({ id, kind, message });
  setTimeout(() => dismissToast(id), LIFETIME_MS[kind]);
}

export const showToast = (message: string) => push("success", message);
export const showErrorToast = (message: string) => push("error", message);
