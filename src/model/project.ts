/** A project name: what a header, resource attribute or API parameter may say. */
export const PROJECT_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const PROJECT_RULE = '1-128 letters, digits, ".", "_", ":" or "-"';
export const DEFAULT_PROJECT = 'default';
