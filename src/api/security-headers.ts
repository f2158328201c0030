import type { FastifyHelmetOptions } from "@fastify/helmet";

/**
 * Response headers of the two listeners (through @fastify/helmet). HSTS is left to whatever
 * terminates TLS in front of briefwright: on plain-HTTP loopback it would mean nothing.
 */

/** The API answers JSON and git packs only: nothing in it may run, be framed, or be sniffed into HTML. */
export const apiSecurityHeaders: FastifyHelmetOptions = {
  global: true,
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
  },
  strictTransportSecurity: false,
  referrerPolicy: { policy: "no-referrer" },
};

/**
 * Pages serve generated apps that load CDN scripts, inline code and fetch public APIs, so their
 * CSP cannot restrict scripts the way the API's does; what keeps them from the API is their own
 * origin. They still get nosniff, a referrer policy and no framing by other sites.
 */
export const pagesSecurityHeaders: FastifyHelmetOptions = {
  global: true,
  contentSecurityPolicy: {
    useDefaults: false,
    // Helmet insists on a default-src; this one allows what a page without a CSP may do.
    directives: { defaultSrc: ["*", "data:", "blob:", "'unsafe-inline'", "'unsafe-eval'"], frameAncestors: ["'self'"] },
  },
  strictTransportSecurity: false,
  referrerPolicy: { policy: "strict-origin-when-cross-origin" },
  // Sites may be linked or embedded as images from elsewhere, as on GitHub Pages.
  crossOriginResourcePolicy: { policy: "cross-origin" },
  crossOriginOpenerPolicy: false,
  crossOriginEmbedderPolicy: false,
};
