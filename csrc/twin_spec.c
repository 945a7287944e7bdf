/* GENERATED from twin/spec.toml by twin/codegen.py: do not edit, run `python -m twin.codegen`. */
#include <math.h>

#include "twin_spec.h"

const twin_var_info twin_vars[TWIN_N_VARS] = {
    {"cell.coulombic_efficiency", 1u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, cell_coulombic_efficiency), 1, 0.5, 1.0, 1.0, "1", 0},
    {"cell.hysteresis_rate", 2u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, cell_hysteresis_rate), 1, 0.0, 10000.0, TWIN_NONE, "1", 0},
    {"cell.hysteresis_instantaneous", 3u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, cell_hysteresis_instantaneous), 1, 0.0, 0.5, 0.0, "V", 0},
    {"cell.heat_capacity", 4u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, cell_heat_capacity), 1, 0.001, 1000000000.0, TWIN_NONE, "J/K", 0},
    {"cell.thermal_resistance_ambient", 5u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, cell_thermal_resistance_ambient), 1, 1e-06, 1000000000000.0, TWIN_NONE, "K/W", 0},
    {"cell.initial_hysteresis", 6u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_FIXED, offsetof(twin_settings, cell_initial_hysteresis), 1, -1.0, 1.0, 0.0, "1", 0},
    {"pack.cells_in_series", 10u, TWIN_WHERE_SETTINGS, TWIN_TYPE_INTEGER, TWIN_CAUSALITY_STRUCTURAL, TWIN_VARIABILITY_FIXED, offsetof(twin_settings, pack_cells_in_series), 1, 1.0, 65535.0, 16.0, "1", 0},
    {"pack.cells_in_parallel", 11u, TWIN_WHERE_SETTINGS, TWIN_TYPE_INTEGER, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_FIXED, offsetof(twin_settings, pack_cells_in_parallel), 1, 1.0, 10000.0, 1.0, "1", 0},
    {"pack.busbar_resistance", 12u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, pack_busbar_resistance), 1, 0.0, 1.0, TWIN_NONE, "Ohm", 0},
    {"pack.thermal_resistance_neighbor", 13u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, pack_thermal_resistance_neighbor), 1, 1e-06, 1000000000000.0, TWIN_NONE, "K/W", 0},
    {"pack.initial_temperature", 14u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_FIXED, offsetof(twin_settings, pack_initial_temperature), 1, -60.0, 120.0, 25.0, "degC", 0},
    {"ageing.capacity_fade_per_cycle", 20u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, ageing_capacity_fade_per_cycle), 1, 0.0, 0.1, TWIN_NONE, "1", 0},
    {"ageing.capacity_fade_per_year", 21u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, ageing_capacity_fade_per_year), 1, 0.0, 1.0, TWIN_NONE, "1", 0},
    {"ageing.resistance_growth_per_fade", 22u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, ageing_resistance_growth_per_fade), 1, 0.0, 100.0, 2.5, "1", 0},
    {"ageing.reference_temperature", 23u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, ageing_reference_temperature), 1, -60.0, 120.0, 25.0, "degC", 0},
    {"ageing.temperature_doubling", 24u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, ageing_temperature_doubling), 1, 0.1, 1000.0, 10.0, "K", 0},
    {"balancer.topology", 30u, TWIN_WHERE_SETTINGS, TWIN_TYPE_ENUMERATION, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_topology), 1, 0.0, 5.0, 1.0, "1", 0},
    {"balancer.policy", 31u, TWIN_WHERE_SETTINGS, TWIN_TYPE_ENUMERATION, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_policy), 1, 0.0, 2.0, 0.0, "1", 0},
    {"balancer.mode", 32u, TWIN_WHERE_SETTINGS, TWIN_TYPE_ENUMERATION, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_mode), 1, 0.0, 2.0, 0.0, "1", 0},
    {"balancer.bleed_resistance", 33u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_bleed_resistance), 1, 0.1, 1000000.0, TWIN_NONE, "Ohm", 0},
    {"balancer.bleed_heat_fraction", 34u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_bleed_heat_fraction), 1, 0.0, 1.0, 1.0, "1", 0},
    {"balancer.channel_current", 35u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_channel_current), 1, 0.0, 1000.0, 1.0, "A", 0},
    {"balancer.transfer_efficiency", 36u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_transfer_efficiency), 1, 0.01, 1.0, 0.8, "1", 0},
    {"balancer.channels", 37u, TWIN_WHERE_SETTINGS, TWIN_TYPE_INTEGER, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_channels), 1, 1.0, 65535.0, 1.0, "1", 0},
    {"balancer.start_voltage", 38u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_start_voltage), 1, 0.0, 5.0, 3.3, "V", 0},
    {"balancer.start_delta", 39u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_start_delta), 1, 0.0, 2.0, 0.01, "V", 0},
    {"balancer.stop_delta", 40u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_stop_delta), 1, 0.0, 2.0, 0.005, "V", 0},
    {"balancer.idle_current", 41u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_idle_current), 1, 0.0, 10000.0, 0.1, "A", 0},
    {"balancer.idle_delay", 42u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_idle_delay), 1, 0.0, 10000000.0, 1800.0, "s", 0},
    {"balancer.max_cells", 43u, TWIN_WHERE_SETTINGS, TWIN_TYPE_INTEGER, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_max_cells), 1, 0.0, 65535.0, 0.0, "1", 0},
    {"balancer.no_adjacent", 44u, TWIN_WHERE_SETTINGS, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_no_adjacent), 1, 0.0, 1.0, 0.0, "1", 0},
    {"balancer.decision_period", 45u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_decision_period), 1, 0.0, 1000000.0, 10.0, "s", 0},
    {"balancer.min_cell_voltage", 46u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_min_cell_voltage), 1, 0.0, 5.0, 2.0, "V", 0},
    {"balancer.max_temperature", 47u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_max_temperature), 1, -60.0, 200.0, 70.0, "degC", 0},
    {"balancer.rest_time", 48u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_rest_time), 1, 0.0, 100000000.0, 10800.0, "s", 0},
    {"balancer.soc_start_delta", 49u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, balancer_soc_start_delta), 1, 0.0, 1.0, 0.01, "1", 0},
    {"protection.cell_overvoltage", 60u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_cell_overvoltage), 1, 0.0, 10.0, 3.65, "V", 0},
    {"protection.cell_overvoltage_release", 61u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_cell_overvoltage_release), 1, 0.0, 10.0, 3.4, "V", 0},
    {"protection.cell_overvoltage_delay", 62u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_cell_overvoltage_delay), 1, 0.0, 1000000.0, 2.0, "s", 0},
    {"protection.cell_undervoltage", 63u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_cell_undervoltage), 1, 0.0, 10.0, 2.5, "V", 0},
    {"protection.cell_undervoltage_release", 64u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_cell_undervoltage_release), 1, 0.0, 10.0, 3.1, "V", 0},
    {"protection.cell_undervoltage_delay", 65u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_cell_undervoltage_delay), 1, 0.0, 1000000.0, 2.0, "s", 0},
    {"protection.charge_overcurrent", 66u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_charge_overcurrent), 1, 0.0, 1000000.0, TWIN_NONE, "A", 0},
    {"protection.charge_overcurrent_delay", 67u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_charge_overcurrent_delay), 1, 0.0, 1000000.0, 0.32, "s", 0},
    {"protection.charge_overcurrent_recovery", 68u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_charge_overcurrent_recovery), 1, 0.0, 10000000.0, 60.0, "s", 0},
    {"protection.discharge_overcurrent", 69u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_discharge_overcurrent), 1, 0.0, 1000000.0, TWIN_NONE, "A", 0},
    {"protection.discharge_overcurrent_delay", 70u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_discharge_overcurrent_delay), 1, 0.0, 1000000.0, 0.32, "s", 0},
    {"protection.discharge_overcurrent_recovery", 71u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_discharge_overcurrent_recovery), 1, 0.0, 10000000.0, 60.0, "s", 0},
    {"protection.charge_overtemperature", 72u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_charge_overtemperature), 1, -100.0, 300.0, 45.0, "degC", 0},
    {"protection.charge_overtemperature_release", 73u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_charge_overtemperature_release), 1, -100.0, 300.0, 40.0, "degC", 0},
    {"protection.charge_overtemperature_delay", 74u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_charge_overtemperature_delay), 1, 0.0, 1000000.0, 2.0, "s", 0},
    {"protection.charge_undertemperature", 75u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_charge_undertemperature), 1, -100.0, 300.0, 0.0, "degC", 0},
    {"protection.charge_undertemperature_release", 76u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_charge_undertemperature_release), 1, -100.0, 300.0, 5.0, "degC", 0},
    {"protection.charge_undertemperature_delay", 77u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_charge_undertemperature_delay), 1, 0.0, 1000000.0, 2.0, "s", 0},
    {"protection.discharge_overtemperature", 78u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_discharge_overtemperature), 1, -100.0, 300.0, 45.0, "degC", 0},
    {"protection.discharge_overtemperature_release", 79u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_discharge_overtemperature_release), 1, -100.0, 300.0, 40.0, "degC", 0},
    {"protection.discharge_overtemperature_delay", 80u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_discharge_overtemperature_delay), 1, 0.0, 1000000.0, 2.0, "s", 0},
    {"protection.discharge_undertemperature", 81u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_discharge_undertemperature), 1, -100.0, 300.0, -20.0, "degC", 0},
    {"protection.discharge_undertemperature_release", 82u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_discharge_undertemperature_release), 1, -100.0, 300.0, -15.0, "degC", 0},
    {"protection.discharge_undertemperature_delay", 83u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, protection_discharge_undertemperature_delay), 1, 0.0, 1000000.0, 2.0, "s", 0},
    {"limits.cell_charge_voltage", 100u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, limits_cell_charge_voltage), 1, 0.0, 10.0, 3.55, "V", 0},
    {"limits.max_charge_current", 101u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, limits_max_charge_current), 1, 0.0, 1000000.0, TWIN_NONE, "A", 0},
    {"limits.max_discharge_current", 102u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, limits_max_discharge_current), 1, 0.0, 1000000.0, TWIN_NONE, "A", 0},
    {"limits.ccl_voltage", 103u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, limits_ccl_voltage), 4, 0.0, 10.0, 3.3, "V", 0},
    {"limits.ccl_fraction", 104u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, limits_ccl_fraction), 4, 0.0, 1.0, 1.0, "1", 0},
    {"limits.dcl_voltage", 105u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, limits_dcl_voltage), 4, 0.0, 10.0, 3.0, "V", 0},
    {"limits.dcl_fraction", 106u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, limits_dcl_fraction), 4, 0.0, 1.0, 1.0, "1", 0},
    {"sensor.voltage_noise", 120u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, sensor_voltage_noise), 1, 0.0, 1.0, 0.0, "V", 0},
    {"sensor.voltage_resolution", 121u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, sensor_voltage_resolution), 1, 0.0, 1.0, 0.001, "V", 0},
    {"sensor.temperature_noise", 122u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, sensor_temperature_noise), 1, 0.0, 100.0, 0.0, "K", 0},
    {"sensor.temperature_resolution", 123u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, sensor_temperature_resolution), 1, 0.0, 100.0, 0.1, "K", 0},
    {"sensor.current_gain_error", 124u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, sensor_current_gain_error), 1, -0.5, 0.5, 0.0, "1", 0},
    {"sensor.current_offset", 125u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, sensor_current_offset), 1, -10000.0, 10000.0, 0.0, "A", 0},
    {"sensor.current_noise", 126u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, sensor_current_noise), 1, 0.0, 10000.0, 0.0, "A", 0},
    {"sensor.current_resolution", 127u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, sensor_current_resolution), 1, 0.0, 10000.0, 0.0, "A", 0},
    {"sensor.seed", 128u, TWIN_WHERE_SETTINGS, TWIN_TYPE_INTEGER, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_FIXED, offsetof(twin_settings, sensor_seed), 1, 0.0, 2147483647.0, 1.0, "1", 0},
    {"detect.block", 140u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, detect_block), 1, 1.0, 3600.0, 60.0, "s", 0},
    {"detect.edge_current", 141u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_FIXED, offsetof(twin_settings, detect_edge_current), 1, 0.0001, 10.0, 0.05, "1/h", 0},
    {"detect.resistance_memory", 142u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_FIXED, offsetof(twin_settings, detect_resistance_memory), 1, 0.1, 1000000.0, 4.0, "1", 0},
    {"detect.resistance_fraction", 143u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, detect_resistance_fraction), 1, 0.0, 100.0, 0.25, "1", 0},
    {"detect.sigmas", 144u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, detect_sigmas), 1, 1.0, 100.0, 5.0, "1", 0},
    {"detect.jump_min", 145u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, detect_jump_min), 1, 0.0, 1.0, 0.004, "V", 0},
    {"detect.confirm_time", 146u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, detect_confirm_time), 1, 0.0, 1000000.0, 600.0, "s", 0},
    {"detect.segment_current", 147u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_FIXED, offsetof(twin_settings, detect_segment_current), 1, 0.0001, 10.0, 0.03, "1/h", 0},
    {"detect.lull", 148u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, detect_lull), 1, 0.0, 1000000.0, 1800.0, "s", 0},
    {"detect.min_step", 149u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, detect_min_step), 1, 0.001, 1.0, 0.015, "V", 0},
    {"detect.charge_threshold", 150u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, detect_charge_threshold), 1, 0.0, 1.0, 0.005, "1", 0},
    {"detect.temperature_threshold", 151u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, detect_temperature_threshold), 1, 0.0, 100.0, 3.0, "K", 0},
    {"detect.bleed_resistance", 152u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_FIXED, offsetof(twin_settings, detect_bleed_resistance), 1, 0.1, 1000000.0, TWIN_NONE, "Ohm", 1},
    {"detect.nominal_resistance", 153u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_FIXED, offsetof(twin_settings, detect_nominal_resistance), 1, 0.0, 100.0, TWIN_NONE, "Ohm", 1},
    {"detect.knee_top", 154u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, detect_knee_top), 1, 0.0, 10.0, 3.3, "V", 0},
    {"detect.knee_bottom", 155u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, detect_knee_bottom), 1, 0.0, 10.0, 3.22, "V", 0},
    {"detect.knee_slope", 156u, TWIN_WHERE_SETTINGS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_settings, detect_knee_slope), 1, 0.0, 1000.0, 1.0, "V", 0},
    {"cell.capacity", 200u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_cell_arrays, cell_capacity), 0, 0.0001, 1000000.0, TWIN_NONE, "A.h", 0},
    {"cell.resistance_factor", 201u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_cell_arrays, cell_resistance_factor), 0, 0.01, 100.0, 1.0, "1", 0},
    {"cell.self_discharge", 202u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_cell_arrays, cell_self_discharge), 0, 0.0, 1000.0, TWIN_NONE, "A", 0},
    {"cell.initial_soc", 203u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_FIXED, offsetof(twin_cell_arrays, cell_initial_soc), 0, 0.0, 1.0, 0.5, "1", 0},
    {"cell.temperature_sensor", 204u, TWIN_WHERE_CELLS, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_cell_arrays, cell_temperature_sensor), 0, 0.0, 1.0, TWIN_NONE, "1", 0},
    {"fault.leak_current", 210u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_cell_arrays, fault_leak_current), 0, 0.0, 10000.0, 0.0, "A", 0},
    {"fault.series_resistance", 211u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_cell_arrays, fault_series_resistance), 0, 0.0, 100.0, 0.0, "Ohm", 0},
    {"fault.capacity_loss", 212u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_cell_arrays, fault_capacity_loss), 0, 0.0, 0.99, 0.0, "1", 0},
    {"fault.voltage_offset", 213u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_cell_arrays, fault_voltage_offset), 0, -10.0, 10.0, 0.0, "V", 0},
    {"fault.voltage_gain_error", 214u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_cell_arrays, fault_voltage_gain_error), 0, -0.9, 10.0, 0.0, "1", 0},
    {"fault.temperature_offset", 215u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_cell_arrays, fault_temperature_offset), 0, -200.0, 200.0, 0.0, "K", 0},
    {"fault.balancer_stuck", 216u, TWIN_WHERE_CELLS, TWIN_TYPE_ENUMERATION, TWIN_CAUSALITY_PARAMETER, TWIN_VARIABILITY_TUNABLE, offsetof(twin_cell_arrays, fault_balancer_stuck), 0, 0.0, 2.0, 0.0, "1", 0},
    {"balancer.command", 230u, TWIN_WHERE_CELLS, TWIN_TYPE_INTEGER, TWIN_CAUSALITY_INPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, balancer_command), 0, -1.0, 1.0, 0.0, "1", 0},
    {"measured.cell_voltage", 231u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_INPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, measured_cell_voltage), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "V", 0},
    {"measured.temperature", 232u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_INPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, measured_temperature), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "degC", 0},
    {"cell.soc", 250u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_LOCAL, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_soc), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "1", 0},
    {"cell.rc_voltage_1", 251u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_LOCAL, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_rc_voltage_1), 0, TWIN_NONE, TWIN_NONE, 0.0, "V", 0},
    {"cell.rc_voltage_2", 252u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_LOCAL, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_rc_voltage_2), 0, TWIN_NONE, TWIN_NONE, 0.0, "V", 0},
    {"cell.rc_voltage_3", 253u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_LOCAL, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_rc_voltage_3), 0, TWIN_NONE, TWIN_NONE, 0.0, "V", 0},
    {"cell.hysteresis", 254u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_LOCAL, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_hysteresis), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "1", 0},
    {"cell.hysteresis_sign", 255u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_LOCAL, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, cell_hysteresis_sign), 0, TWIN_NONE, TWIN_NONE, 0.0, "1", 0},
    {"cell.temperature", 256u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_LOCAL, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_temperature), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "degC", 0},
    {"cell.capacity_fade", 257u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_LOCAL, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_capacity_fade), 0, 0.0, 0.99, 0.0, "1", 0},
    {"cell.resistance_growth", 258u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_LOCAL, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_resistance_growth), 0, 0.0, 100.0, 0.0, "1", 0},
    {"cell.throughput", 259u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_LOCAL, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_throughput), 0, TWIN_NONE, TWIN_NONE, 0.0, "A.h", 0},
    {"cell.voltage", 260u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_voltage), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "V", 0},
    {"cell.voltage_measured", 261u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_voltage_measured), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "V", 0},
    {"cell.ocv", 262u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_ocv), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "V", 0},
    {"cell.temperature_measured", 263u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_temperature_measured), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "degC", 0},
    {"cell.current", 264u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_current), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A", 0},
    {"cell.heat", 265u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_heat), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "W", 0},
    {"balancer.bleed_current", 266u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, balancer_bleed_current), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A", 0},
    {"balancer.transfer_current", 267u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, balancer_transfer_current), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A", 0},
    {"balancer.active", 268u, TWIN_WHERE_CELLS, TWIN_TYPE_INTEGER, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, balancer_active), 0, -1.0, 1.0, TWIN_NONE, "1", 0},
    {"balancer.bleed_charge", 269u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_LOCAL, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, balancer_bleed_charge), 0, TWIN_NONE, TWIN_NONE, 0.0, "A.h", 0},
    {"balancer.transfer_charge_in", 270u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_LOCAL, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, balancer_transfer_charge_in), 0, TWIN_NONE, TWIN_NONE, 0.0, "A.h", 0},
    {"balancer.transfer_charge_out", 271u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_LOCAL, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, balancer_transfer_charge_out), 0, TWIN_NONE, TWIN_NONE, 0.0, "A.h", 0},
    {"cell.present_capacity", 272u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, cell_present_capacity), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A.h", 0},
    {"residual.cell_voltage", 273u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, residual_cell_voltage), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "V", 0},
    {"residual.temperature", 274u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, residual_temperature), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "K", 0},
    {"balancer.commanded", 275u, TWIN_WHERE_CELLS, TWIN_TYPE_INTEGER, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, balancer_commanded), 0, -1.0, 1.0, TWIN_NONE, "1", 0},
    {"flag.self_discharge", 280u, TWIN_WHERE_CELLS, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, flag_self_discharge), 0, 0.0, 1.0, 0.0, "1", 0},
    {"flag.self_discharge_time", 281u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, flag_self_discharge_time), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "s", 0},
    {"flag.resistance", 282u, TWIN_WHERE_CELLS, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, flag_resistance), 0, 0.0, 1.0, 0.0, "1", 0},
    {"flag.resistance_time", 283u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, flag_resistance_time), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "s", 0},
    {"flag.capacity", 284u, TWIN_WHERE_CELLS, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, flag_capacity), 0, 0.0, 1.0, 0.0, "1", 0},
    {"flag.capacity_time", 285u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, flag_capacity_time), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "s", 0},
    {"flag.voltage_sensor", 286u, TWIN_WHERE_CELLS, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, flag_voltage_sensor), 0, 0.0, 1.0, 0.0, "1", 0},
    {"flag.voltage_sensor_time", 287u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, flag_voltage_sensor_time), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "s", 0},
    {"flag.balancer", 288u, TWIN_WHERE_CELLS, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, flag_balancer), 0, 0.0, 1.0, 0.0, "1", 0},
    {"flag.balancer_time", 289u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, flag_balancer_time), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "s", 0},
    {"flag.thermal", 290u, TWIN_WHERE_CELLS, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, flag_thermal), 0, 0.0, 1.0, 0.0, "1", 0},
    {"flag.thermal_time", 291u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, flag_thermal_time), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "s", 0},
    {"estimate.leak_current", 320u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, estimate_leak_current), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A", 0},
    {"estimate.leak_current_sigma", 321u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, estimate_leak_current_sigma), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A", 0},
    {"estimate.resistance_change", 322u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, estimate_resistance_change), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "Ohm", 0},
    {"estimate.resistance_change_sigma", 323u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, estimate_resistance_change_sigma), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "Ohm", 0},
    {"estimate.capacity_change", 324u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, estimate_capacity_change), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "1", 0},
    {"estimate.capacity_change_sigma", 325u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, estimate_capacity_change_sigma), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "1", 0},
    {"estimate.voltage_offset", 326u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, estimate_voltage_offset), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "V", 0},
    {"estimate.voltage_offset_sigma", 327u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, estimate_voltage_offset_sigma), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "V", 0},
    {"estimate.charge_offset", 328u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, estimate_charge_offset), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A.h", 0},
    {"estimate.charge_offset_sigma", 329u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, estimate_charge_offset_sigma), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A.h", 0},
    {"estimate.temperature_offset", 330u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, estimate_temperature_offset), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "K", 0},
    {"estimate.bleed_error", 331u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, estimate_bleed_error), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A", 0},
    {"detect.deviation", 332u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_cell_arrays, detect_deviation), 0, TWIN_NONE, TWIN_NONE, TWIN_NONE, "V", 0},
    {"estimate.leak_current_lower_bound", 333u, TWIN_WHERE_CELLS, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_cell_arrays, estimate_leak_current_lower_bound), 0, TWIN_NONE, TWIN_NONE, 0.0, "1", 0},
    {"pack.current", 400u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_INPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, pack_current), 1, TWIN_NONE, TWIN_NONE, 0.0, "A", 0},
    {"pack.ambient_temperature", 401u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_INPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, pack_ambient_temperature), 1, TWIN_NONE, TWIN_NONE, 25.0, "degC", 0},
    {"pack.voltage", 410u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, pack_voltage), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "V", 0},
    {"pack.applied_current", 411u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, pack_applied_current), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A", 0},
    {"pack.current_measured", 412u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, pack_current_measured), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A", 0},
    {"pack.max_cell_voltage", 413u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, pack_max_cell_voltage), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "V", 0},
    {"pack.min_cell_voltage", 414u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, pack_min_cell_voltage), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "V", 0},
    {"pack.cell_voltage_spread", 415u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, pack_cell_voltage_spread), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "V", 0},
    {"pack.soc", 416u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, pack_soc), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "1", 0},
    {"pack.soc_spread", 417u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, pack_soc_spread), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "1", 0},
    {"bms.charge_enable", 418u, TWIN_WHERE_PACK, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, bms_charge_enable), 1, 0.0, 1.0, TWIN_NONE, "1", 0},
    {"bms.discharge_enable", 419u, TWIN_WHERE_PACK, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, bms_discharge_enable), 1, 0.0, 1.0, TWIN_NONE, "1", 0},
    {"bms.cvl", 420u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, bms_cvl), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "V", 0},
    {"bms.ccl", 421u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, bms_ccl), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A", 0},
    {"bms.dcl", 422u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, bms_dcl), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A", 0},
    {"protection.cell_overvoltage_tripped", 423u, TWIN_WHERE_PACK, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, protection_cell_overvoltage_tripped), 1, 0.0, 1.0, TWIN_NONE, "1", 0},
    {"protection.cell_undervoltage_tripped", 424u, TWIN_WHERE_PACK, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, protection_cell_undervoltage_tripped), 1, 0.0, 1.0, TWIN_NONE, "1", 0},
    {"protection.charge_overcurrent_tripped", 425u, TWIN_WHERE_PACK, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, protection_charge_overcurrent_tripped), 1, 0.0, 1.0, TWIN_NONE, "1", 0},
    {"protection.discharge_overcurrent_tripped", 426u, TWIN_WHERE_PACK, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, protection_discharge_overcurrent_tripped), 1, 0.0, 1.0, TWIN_NONE, "1", 0},
    {"protection.charge_overtemperature_tripped", 427u, TWIN_WHERE_PACK, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, protection_charge_overtemperature_tripped), 1, 0.0, 1.0, TWIN_NONE, "1", 0},
    {"protection.charge_undertemperature_tripped", 428u, TWIN_WHERE_PACK, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, protection_charge_undertemperature_tripped), 1, 0.0, 1.0, TWIN_NONE, "1", 0},
    {"protection.discharge_overtemperature_tripped", 429u, TWIN_WHERE_PACK, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, protection_discharge_overtemperature_tripped), 1, 0.0, 1.0, TWIN_NONE, "1", 0},
    {"protection.discharge_undertemperature_tripped", 430u, TWIN_WHERE_PACK, TWIN_TYPE_BOOLEAN, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, protection_discharge_undertemperature_tripped), 1, 0.0, 1.0, TWIN_NONE, "1", 0},
    {"balancer.energy_dissipated", 431u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, balancer_energy_dissipated), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "W.h", 0},
    {"balancer.charge_moved", 432u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, balancer_charge_moved), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "A.h", 0},
    {"balancer.active_cells", 433u, TWIN_WHERE_PACK, TWIN_TYPE_INTEGER, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, balancer_active_cells), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "1", 0},
    {"pack.max_temperature", 434u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, pack_max_temperature), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "degC", 0},
    {"pack.min_temperature", 435u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_CONTINUOUS, offsetof(twin_pack_vars, pack_min_temperature), 1, TWIN_NONE, TWIN_NONE, TWIN_NONE, "degC", 0},
    {"detect.samples", 440u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, detect_samples), 1, TWIN_NONE, TWIN_NONE, 0.0, "1", 0},
    {"detect.runs", 441u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, detect_runs), 1, TWIN_NONE, TWIN_NONE, 0.0, "1", 0},
    {"detect.gaps", 442u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, detect_gaps), 1, TWIN_NONE, TWIN_NONE, 0.0, "1", 0},
    {"detect.flags", 443u, TWIN_WHERE_PACK, TWIN_TYPE_REAL, TWIN_CAUSALITY_OUTPUT, TWIN_VARIABILITY_DISCRETE, offsetof(twin_pack_vars, detect_flags), 1, TWIN_NONE, TWIN_NONE, 0.0, "1", 0},
};

const twin_var_info *twin_var_by_vr(unsigned int vr)
{
    int lo = 0, hi = TWIN_N_VARS - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (twin_vars[mid].vr == vr) return &twin_vars[mid];
        if (twin_vars[mid].vr < vr) lo = mid + 1; else hi = mid - 1;
    }
    return NULL;
}

void twin_settings_defaults(twin_settings *s)
{
    s->cell_coulombic_efficiency = 1.0;
    s->cell_hysteresis_rate = NAN;
    s->cell_hysteresis_instantaneous = 0.0;
    s->cell_heat_capacity = NAN;
    s->cell_thermal_resistance_ambient = NAN;
    s->cell_initial_hysteresis = 0.0;
    s->pack_cells_in_series = 16;
    s->pack_cells_in_parallel = 1;
    s->pack_busbar_resistance = NAN;
    s->pack_thermal_resistance_neighbor = NAN;
    s->pack_initial_temperature = 25.0;
    s->ageing_capacity_fade_per_cycle = NAN;
    s->ageing_capacity_fade_per_year = NAN;
    s->ageing_resistance_growth_per_fade = 2.5;
    s->ageing_reference_temperature = 25.0;
    s->ageing_temperature_doubling = 10.0;
    s->balancer_topology = 1;
    s->balancer_policy = 0;
    s->balancer_mode = 0;
    s->balancer_bleed_resistance = NAN;
    s->balancer_bleed_heat_fraction = 1.0;
    s->balancer_channel_current = 1.0;
    s->balancer_transfer_efficiency = 0.8;
    s->balancer_channels = 1;
    s->balancer_start_voltage = 3.3;
    s->balancer_start_delta = 0.01;
    s->balancer_stop_delta = 0.005;
    s->balancer_idle_current = 0.1;
    s->balancer_idle_delay = 1800.0;
    s->balancer_max_cells = 0;
    s->balancer_no_adjacent = 0;
    s->balancer_decision_period = 10.0;
    s->balancer_min_cell_voltage = 2.0;
    s->balancer_max_temperature = 70.0;
    s->balancer_rest_time = 10800.0;
    s->balancer_soc_start_delta = 0.01;
    s->protection_cell_overvoltage = 3.65;
    s->protection_cell_overvoltage_release = 3.4;
    s->protection_cell_overvoltage_delay = 2.0;
    s->protection_cell_undervoltage = 2.5;
    s->protection_cell_undervoltage_release = 3.1;
    s->protection_cell_undervoltage_delay = 2.0;
    s->protection_charge_overcurrent = NAN;
    s->protection_charge_overcurrent_delay = 0.32;
    s->protection_charge_overcurrent_recovery = 60.0;
    s->protection_discharge_overcurrent = NAN;
    s->protection_discharge_overcurrent_delay = 0.32;
    s->protection_discharge_overcurrent_recovery = 60.0;
    s->protection_charge_overtemperature = 45.0;
    s->protection_charge_overtemperature_release = 40.0;
    s->protection_charge_overtemperature_delay = 2.0;
    s->protection_charge_undertemperature = 0.0;
    s->protection_charge_undertemperature_release = 5.0;
    s->protection_charge_undertemperature_delay = 2.0;
    s->protection_discharge_overtemperature = 45.0;
    s->protection_discharge_overtemperature_release = 40.0;
    s->protection_discharge_overtemperature_delay = 2.0;
    s->protection_discharge_undertemperature = -20.0;
    s->protection_discharge_undertemperature_release = -15.0;
    s->protection_discharge_undertemperature_delay = 2.0;
    s->limits_cell_charge_voltage = 3.55;
    s->limits_max_charge_current = NAN;
    s->limits_max_discharge_current = NAN;
    s->limits_ccl_voltage[0] = 3.3;
    s->limits_ccl_voltage[1] = 3.45;
    s->limits_ccl_voltage[2] = 3.5;
    s->limits_ccl_voltage[3] = 3.55;
    s->limits_ccl_fraction[0] = 1.0;
    s->limits_ccl_fraction[1] = 0.5;
    s->limits_ccl_fraction[2] = 0.05;
    s->limits_ccl_fraction[3] = 0.0;
    s->limits_dcl_voltage[0] = 3.0;
    s->limits_dcl_voltage[1] = 2.9;
    s->limits_dcl_voltage[2] = 2.8;
    s->limits_dcl_voltage[3] = 2.7;
    s->limits_dcl_fraction[0] = 1.0;
    s->limits_dcl_fraction[1] = 0.5;
    s->limits_dcl_fraction[2] = 0.1;
    s->limits_dcl_fraction[3] = 0.0;
    s->sensor_voltage_noise = 0.0;
    s->sensor_voltage_resolution = 0.001;
    s->sensor_temperature_noise = 0.0;
    s->sensor_temperature_resolution = 0.1;
    s->sensor_current_gain_error = 0.0;
    s->sensor_current_offset = 0.0;
    s->sensor_current_noise = 0.0;
    s->sensor_current_resolution = 0.0;
    s->sensor_seed = 1;
    s->detect_block = 60.0;
    s->detect_edge_current = 0.05;
    s->detect_resistance_memory = 4.0;
    s->detect_resistance_fraction = 0.25;
    s->detect_sigmas = 5.0;
    s->detect_jump_min = 0.004;
    s->detect_confirm_time = 600.0;
    s->detect_segment_current = 0.03;
    s->detect_lull = 1800.0;
    s->detect_min_step = 0.015;
    s->detect_charge_threshold = 0.005;
    s->detect_temperature_threshold = 3.0;
    s->detect_bleed_resistance = NAN;
    s->detect_nominal_resistance = NAN;
    s->detect_knee_top = 3.3;
    s->detect_knee_bottom = 3.22;
    s->detect_knee_slope = 1.0;
}
