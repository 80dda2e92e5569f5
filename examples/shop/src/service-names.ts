/** The six services, in the order the supervisor starts them and the UI lists them. */
export const SERVICE_NAMES = ['gateway', 'orders', 'payments', 'inventory', 'shipping', 'notifications'] as const;
/** One of the shop's services (each its own process or processes, and its own database). */
export type ServiceName = (typeof SERVICE_NAMES)[number];
