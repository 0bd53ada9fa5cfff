/** `file:` URL → filesystem path (no jsr: @std/path available). */
export function fromFileUrl(url: URL): string {
  if (url.protocol !== "file:") throw new TypeError(`not a file URL: ${url.href}`);
  const path = decodeURIComponent(url.pathname);
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}
