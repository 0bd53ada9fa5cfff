/**
 * Where the orchestrator reads secrets. Workers hold no vault: a secret is
 * resolved here, on the orchestrator, when a step is prepared for dispatch,
 * and travels with the dispatch (DESIGN §10, §14).
 */
export interface SecretSource {
  /**
   * The secret's value. Throws a SwampError with a clear code when the vault
   * or the key is missing (`vault_not_found`, `secret_not_found`) or the vault
   * cannot be opened (`vault_locked`: wrong key file, tampered file, key file
   * readable by others). The value is never part of any message.
   */
  getSecret(vault: string, key: string): Promise<string>;
}
