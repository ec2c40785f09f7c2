// Who is signed in, for the screens' buttons: an action the role does not allow is shown disabled,
// saying why, instead of failing when clicked. (The core still refuses it either way.)

import type { Action } from "./bindings/Action";
import type { Me } from "./bindings/Me";
import type { Resource } from "./bindings/Resource";
import { hasPermission } from "./permissions";

let current: Me | null = $state(null);

/** The shell sets it when someone signs in, and clears it on sign-out. */
export function setMe(me: Me | null): void {
  current = me;
}

/** Whether the signed-in person's role allows it (administrators may do everything). */
export function may(resource: Resource, action: Action): boolean {
  if (current === null) return false;
  return current.role.is_admin || hasPermission(current.role.permissions, resource, action);
}

const VERB: Readonly<Record<Action, string>> = {
  view: "viewing",
  send: "sending from",
  create: "adding to",
  edit: "editing",
  delete: "deleting from",
  import: "importing into",
  load_template: "loading the models of",
};

const LABEL: Readonly<Record<Resource, string>> = {
  whatsapp_chat: "Chat",
  whatsapp_bot: "Bots",
  whatsapp_campaign: "Campaigns",
  whatsapp_groups: "Groups",
  whatsapp_contacts: "Bulk Contacts",
  whatsapp_template: "Templates",
  whatsapp_numbers: "Numbers",
  quickreplies: "Quick Replies",
  leads: "Leads",
  clients: "Clients",
  documents: "Documents",
};

/** Why a button is disabled, in plain words; null when the role allows it. */
export function forbidden(resource: Resource, action: Action): string | null {
  if (may(resource, action)) return null;
  return `Your role (${current?.role.name ?? "none"}) does not allow ${VERB[action]} ${LABEL[resource]}: ask an administrator.`;
}

/**
 * For a button whose action the role may not do (`use:allowed={["whatsapp_contacts", "import"]}`):
 * it looks disabled, its tooltip says why, and a click says why instead of acting.
 */
export function allowed(node: HTMLElement, permission: [Resource, Action]) {
  let [resource, action] = permission;
  const own = node.title;
  const apply = () => {
    const why = forbidden(resource, action);
    node.classList.toggle("forbidden", why !== null);
    if (why) {
      node.setAttribute("aria-disabled", "true");
      node.title = why;
    } else {
      node.removeAttribute("aria-disabled");
      node.title = own;
    }
  };
  const onclick = (event: Event) => {
    const why = forbidden(resource, action);
    if (!why) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    refusedToast?.(why);
  };
  // Follows the signed-in role: `forbidden` reads it.
  $effect(apply);
  node.addEventListener("click", onclick, { capture: true });
  return {
    update(next: [Resource, Action]) {
      [resource, action] = next;
      apply();
    },
    destroy() {
      node.removeEventListener("click", onclick, { capture: true });
    },
  };
}

let refusedToast: ((why: string) => void) | null = null;

/** How a refused click is said (the shell passes the error toast). */
export function setRefusedToast(show: (why: string) => void): void {
  refusedToast = show;
}
