import type { Container, PatchOperation } from '@azure/cosmos';
import type { DeviceRecord, DeviceStatusStore, RecordedPull } from '../../usecases/ports/devices.js';
import { guardCosmos } from './client.js';

interface DeviceItem extends DeviceRecord {
  id: string;
}

const statusOf = (error: unknown) => (error as { code?: unknown }).code;

const blank = (tenantId: string, deviceId: string, userId: string): DeviceItem => ({
  id: deviceId,
  tenantId,
  deviceId,
  userId,
  platform: null,
  appVersion: null,
  lastPushAt: null,
  lastPullAt: null,
  lastSyncAt: null,
  pullPosition: null,
  heldSet: null,
  schemaVersion: null,
});

const toRecord = (record: DeviceItem): DeviceRecord => ({
  tenantId: record.tenantId,
  deviceId: record.deviceId,
  userId: record.userId,
  platform: record.platform ?? null,
  appVersion: record.appVersion ?? null,
  lastPushAt: record.lastPushAt ?? null,
  lastPullAt: record.lastPullAt ?? null,
  lastSyncAt: record.lastSyncAt ?? null,
  pullPosition: record.pullPosition ?? null,
  heldSet: record.heldSet ?? null,
  schemaVersion: record.schemaVersion ?? null,
});

/** Device documents in Cosmos, partitioned by tenant; writes are field patches, so writers never clobber each other. */
export class CosmosDeviceStatusStore implements DeviceStatusStore {
  constructor(private readonly container: () => Container) {}

  /** Patches the device's document, creating it first when it does not exist yet. */
  private async patch(tenantId: string, deviceId: string, userId: string, operations: PatchOperation[]) {
    await guardCosmos(async () => {
      const item = this.container().item(deviceId, tenantId);
      try {
        await item.patch(operations);
        return;
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
      try {
        await this.container().items.create(blank(tenantId, deviceId, userId));
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
      }
      await item.patch(operations);
    });
  }

  recordPush(
    tenantId: string,
    push: { deviceId: string; userId: string; platform?: string; appVersion?: string; at: string },
  ): Promise<void> {
    const operations: PatchOperation[] = [
      { op: 'set', path: '/userId', value: push.userId },
      { op: 'set', path: '/lastPushAt', value: push.at },
    ];
    if (push.platform) operations.push({ op: 'set', path: '/platform', value: push.platform });
    if (push.appVersion) operations.push({ op: 'set', path: '/appVersion', value: push.appVersion });
    return this.patch(tenantId, push.deviceId, push.userId, operations);
  }

  recordPull(tenantId: string, pull: RecordedPull): Promise<void> {
    // Callers record only a pull by the device's owner (or its first user), as for pushes (device-access.ts).
    const operations: PatchOperation[] = [
      { op: 'set', path: '/userId', value: pull.userId },
      { op: 'set', path: '/lastPullAt', value: pull.at },
      { op: 'set', path: '/pullPosition', value: pull.position },
      // Always with the position: a hash left from an earlier pull would filter the count by the wrong set.
      { op: 'set', path: '/heldSet', value: pull.heldSet ?? null },
    ];
    if (pull.schemaVersion !== undefined)
      operations.push({ op: 'set', path: '/schemaVersion', value: pull.schemaVersion });
    return this.patch(tenantId, pull.deviceId, pull.userId, operations);
  }

  recordSynced(tenantId: string, deviceId: string, at: string): Promise<void> {
    return this.patch(tenantId, deviceId, '', [{ op: 'set', path: '/lastSyncAt', value: at }]);
  }

  async get(tenantId: string, deviceId: string): Promise<DeviceRecord | undefined> {
    return guardCosmos(async () => {
      try {
        const { resource } = await this.container().item(deviceId, tenantId).read<DeviceItem>();
        return resource ? toRecord(resource) : undefined;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async list(tenantId: string): Promise<DeviceRecord[]> {
    return guardCosmos(async () => {
      const { resources } = await this.container()
        .items.query<DeviceItem>(
          {
            query: 'SELECT * FROM c WHERE c.tenantId = @tenantId',
            parameters: [{ name: '@tenantId', value: tenantId }],
          },
          { partitionKey: tenantId },
        )
        .fetchAll();
      return resources.map(toRecord).sort((a, b) => a.deviceId.localeCompare(b.deviceId));
    });
  }
}
