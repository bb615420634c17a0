/** Production record fields (as events and the API name them) and their columns. */
export const PRODUCTION_COLUMNS = {
  oilVolume: 'oil_volume',
  gasVolume: 'gas_volume',
  waterVolume: 'water_volume',
  tubingPressure: 'tubing_pressure',
  casingPressure: 'casing_pressure',
  chokeSize: 'choke_size',
  runtime: 'runtime',
  notes: 'notes',
} as const;
