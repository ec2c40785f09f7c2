// The permission matrix of the role editor, as pure functions over Permission lists.

import type { Action } from "./bindings/Action";
import type { Permission } from "./bindings/Permission";
import type { Resource } from "./bindings/Resource";
import type { ResourceInfo } from "./bindings/ResourceInfo";

/** The order actions appear in as matrix columns. */
const ACTION_ORDER: readonly Action[] = [
  "view",
  "send",
  "create",
  "edit",
  "delete",
  "import",
  "load_template",
];

export function hasPermission(perms: readonly Permission[], resource: Resource, action: Action): boolean {
  return perms.some((p) => p.resource === resource && p.action === action);
}

/** The matrix columns: every action that at least one resource of the catalog has. */
export function actionColumns(catalog: readonly ResourceInfo[]): Action[] {
  const used = new Set<Action>(catalog.flatMap((r) => r.actions));
  const known = ACTION_ORDER.filter((a) => used.has(a));
  const extra = [...used].filter((a) => !ACTION_ORDER.includes(a));
  return [...known, ...extra];
}

/** `perms` with `resource`/`action` switched on or off. */
export function setPermission(
  perms: readonly Permission[],
  resource: Resource,
  action: Action,
  on: boolean,
): Permission[] {
  const rest = perms.filter((p) => !(p.resource === resource && p.action === action));
  return on ? [...rest, { resource, action }] : rest;
}

/** Whether a row has all, some or none of its actions. */
export function rowState(perms: readonly Permission[], row: ResourceInfo): "all" | "some" | "none" {
  const held = row.actions.filter((a) => hasPermission(perms, row.resource, a)).length;
  if (held === 0) return "none";
  return held === row.actions.length ? "all" : "some";
}

/** `perms` with every action of `row` switched on or off. */
export function setRow(perms: readonly Permission[], row: ResourceInfo, on: boolean): Permission[] {
  const rest = perms.filter((p) => p.resource !== row.resource);
  return on ? [...rest, ...row.actions.map((action) => ({ resource: row.resource, action }))] : rest;
}

/** The permissions in catalog order, without duplicates or entries the catalog lacks. */
export function normalise(perms: readonly Permission[], catalog: readonly ResourceInfo[]): Permission[] {
  return catalog.flatMap((row) =>
    row.actions
      .filter((action) => hasPermission(perms, row.resource, action))
      .map((action) => ({ resource: row.resource, action })),
  );
}

/** "3 of 26 permissions" style summary. */
export function permissionCount(perms: readonly Permission[], catalog: readonly ResourceInfo[]): number {
  return normalise(perms, catalog).length;
}
