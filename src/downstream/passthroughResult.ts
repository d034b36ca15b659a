import { z } from 'zod';

/**
 * Accepts any result as is. Used on the per-call path: the gateway forwards a downstream's
 * result unchanged and the client at the other end validates it, so validating it here
 * too would be work done twice.
 */
export const PassthroughResultSchema = z.any();
