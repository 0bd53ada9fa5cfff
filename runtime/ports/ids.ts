/** Identifiers, behind a port so tests can make them predictable. */
export interface IdSource {
  uuid(): string;
}

export const randomIds: IdSource = { uuid: () => crypto.randomUUID() };
