/** The product and version build-time fetches name themselves with. */
export const userAgentProduct = "briefwright/0.1";

/**
 * The User-Agent of a round's build-time fetches. Public APIs such as company-facts endpoints
 * refuse anonymous clients and ask for a name and a contact: by default the product and the
 * request's email; FETCH_USER_AGENT replaces it (`{email}` in it stands for the request's email).
 */
export function fetchUserAgent(configured: string | undefined, email: string): string {
  // Only printable ASCII may go into a header; an address with anything else loses those characters.
  const contact = email.replace(/[^\x21-\x7e]/g, "");
  if (configured) return configured.replaceAll("{email}", contact);
  return contact ? `${userAgentProduct} (+mailto:${contact})` : userAgentProduct;
}
