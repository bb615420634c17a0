import type { EquipmentInput, WellInput } from '../../shared/contracts/reference-data.js';

let counter = 0;

export const wellInput = (overrides: Partial<WellInput> = {}): WellInput => {
  counter += 1;
  return {
    name: `Test Well ${counter}`,
    apiNumber: `42-999-${String(counter).padStart(5, '0')}-${process.pid}`,
    latitude: 31.9973,
    longitude: -102.0779,
    status: 'ACTIVE',
    ...overrides,
  };
};

export const equipmentInput = (wellId: string, overrides: Partial<EquipmentInput> = {}): EquipmentInput => ({
  wellId,
  equipmentType: 'PUMP_JACK',
  serialNumber: `SN-${Date.now()}`,
  status: 'OPERATIONAL',
  ...overrides,
});
