/**
 * Who may use a device id. A device belongs to the user who first pushed or pulled with it (the `userId`
 * of its status record); docs/architecture.md ("Devices belong to one user") records the rule.
 *
 * - Acting AS the device (push, pull, photo upload URLs): only its owner, or anyone while the id is unknown
 *   (that first use makes them the owner). A manager pulling with another user's device is served, but the
 *   device's pull position is left alone; a manager may not push or ask upload URLs as another user's device.
 * - Reading ABOUT the device (status, retry of its failed events): its owner or a manager.
 *
 * Everyone else gets 403 DEVICE_NOT_OWNED: device ids are chosen by clients, not secrets, so saying that
 * the id is taken is how a client learns to pick its own.
 */
import { isManager, type Principal } from '../auth/principal.js';
import { ForbiddenError } from '../errors.js';
import type { DeviceRecord, DeviceStatusStore } from './ports/devices.js';
import type { Tenant } from './ports/tenancy.js';

export const DEVICE_NOT_OWNED = 'DEVICE_NOT_OWNED';

export interface DeviceAccess {
  /** The device's status record, when the device is known. */
  record: DeviceRecord | undefined;
  /** The caller owns the device, or nobody does yet: it may record its own pushes and pulls on it. */
  owns: boolean;
}

/**
 * Reads the device's owner and checks the caller may use the device id for `use`.
 * Throws ForbiddenError (403, code DEVICE_NOT_OWNED) when not; DependencyUnavailableError when Cosmos is down.
 */
export async function checkDeviceAccess(
  devices: Pick<DeviceStatusStore, 'get'>,
  tenant: Tenant,
  principal: Principal,
  deviceId: string,
  use: 'act' | 'read',
): Promise<DeviceAccess> {
  const record = await devices.get(tenant.id, deviceId);
  // An empty userId is a record made before any push or pull (lastSyncAt of an unknown device): no owner.
  const owns = !record || record.userId === '' || record.userId === principal.userId;
  if (owns || (use !== 'act' && isManager(principal))) return { record, owns };
  throw new ForbiddenError(
    `device ${deviceId} belongs to another user; use a device id of your own`,
    DEVICE_NOT_OWNED,
  );
}
