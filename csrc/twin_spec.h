/* GENERATED from twin/spec.toml by twin/codegen.py: do not edit, run `python -m twin.codegen`. */
#ifndef TWIN_SPEC_H
#define TWIN_SPEC_H

#include <stddef.h>

/* Marks a missing start value or bound in twin_vars (never a valid value). */
#define TWIN_NONE (-1.0e300)

/* What hardware moves balancing charge. */
enum { TWIN_BALANCER_TOPOLOGY_NONE = 0, TWIN_BALANCER_TOPOLOGY_PASSIVE = 1, TWIN_BALANCER_TOPOLOGY_ADJACENT = 2, TWIN_BALANCER_TOPOLOGY_FLYING_CAPACITOR = 3, TWIN_BALANCER_TOPOLOGY_CELL_TO_PACK = 4, TWIN_BALANCER_TOPOLOGY_PACK_TO_CELL = 5 };
/* Who decides which cells balance. */
enum { TWIN_BALANCER_POLICY_VOLTAGE_DELTA = 0, TWIN_BALANCER_POLICY_SOC_HISTORY = 1, TWIN_BALANCER_POLICY_EXTERNAL = 2 };
/* When the policy may balance. */
enum { TWIN_BALANCER_MODE_CHARGING = 0, TWIN_BALANCER_MODE_IDLE = 1, TWIN_BALANCER_MODE_ALWAYS = 2 };
/* Balancer switch fault of one cell. */
enum { TWIN_BALANCER_STUCK_NONE = 0, TWIN_BALANCER_STUCK_ON = 1, TWIN_BALANCER_STUCK_OFF = 2 };

/* Scalar kernel parameters. */
typedef struct twin_settings {
    double cell_coulombic_efficiency; /* [1] Fraction of charging current stored as charge (discharge is taken as 1) */
    double cell_hysteresis_rate; /* [1] Dynamic hysteresis rate gamma: the state relaxes towards the branch of the current sign with e-folding charge Q/gamma (Plett 2015) */
    double cell_hysteresis_instantaneous; /* [V] Instantaneous hysteresis: voltage added with the sign of the last non-zero current (Plett 2015) */
    double cell_heat_capacity; /* [J/K] Heat capacity of one cell */
    double cell_thermal_resistance_ambient; /* [K/W] Thermal resistance from one cell to ambient air */
    double cell_initial_hysteresis; /* [1] Hysteresis state at the start: -1 on the discharge branch, +1 on the charge branch, 0 between */
    int pack_cells_in_series; /* [1] Number of cells (or parallel groups) in series */
    int pack_cells_in_parallel; /* [1] Cells in parallel in each group; a group is simulated as one cell with P times the capacity, heat capacity and leakage and 1/P times the resistances */
    double pack_busbar_resistance; /* [Ohm] Resistance of each busbar between adjacent groups; it adds to the pack voltage drop and heats the two groups it joins */
    double pack_thermal_resistance_neighbor; /* [K/W] Thermal resistance between adjacent cells (a large value decouples them) */
    double pack_initial_temperature; /* [degC] Temperature of every cell at the start */
    double ageing_capacity_fade_per_cycle; /* [1] Capacity lost per equivalent full cycle (charge throughput of two capacities) at the reference temperature */
    double ageing_capacity_fade_per_year; /* [1] Calendar capacity loss per year at the reference temperature (linear law) */
    double ageing_resistance_growth_per_fade; /* [1] Relative resistance growth per unit of relative capacity fade */
    double ageing_reference_temperature; /* [degC] Temperature at which the ageing rates apply */
    double ageing_temperature_doubling; /* [K] Temperature rise above the reference that doubles the ageing rates (the rates halve below) */
    int balancer_topology; /* [1] Balancing hardware: passive bleed resistors, or an active converter */
    int balancer_policy; /* [1] Balancing decision: by cell voltage difference, by SOC after rest (foxBMS history strategy), or commanded from outside */
    int balancer_mode; /* [1] When balancing may run: only while charging, only after an idle delay, or always */
    double balancer_bleed_resistance; /* [Ohm] Bleed resistor of each cell (passive); the bleed current is the cell voltage over it */
    double balancer_bleed_heat_fraction; /* [1] Fraction of a bleed resistor's heat that goes into its cell (1 when the resistor sits on the cell) */
    double balancer_channel_current; /* [A] Cell-side current of an active balancer channel: taken from the donor cell (cell-to-cell, cell-to-pack) or delivered to the receiving cell (pack-to-cell) (JK BMS 0.4-2 A, Daly 1 A) */
    double balancer_transfer_efficiency; /* [1] Active transfer efficiency: charge received over charge taken for cell-to-cell topologies, energy received over energy taken for cell-to-pack and pack-to-cell */
    int balancer_channels; /* [1] Simultaneous transfers an active balancer can run (flying capacitor, cell-to-pack, pack-to-cell) */
    double balancer_start_voltage; /* [V] Balancing starts only when the highest cell is above this voltage (Libre Solar bms-firmware LFP default 3.30 V) */
    double balancer_start_delta; /* [V] A cell balances when it is more than this above the lowest cell (Libre Solar 10 mV) */
    double balancer_stop_delta; /* [V] A balancing cell stops when it is less than this above the lowest cell (hysteresis) */
    double balancer_idle_current; /* [A] Pack current magnitude below which the pack counts as idle (Libre Solar 0.1 A) */
    double balancer_idle_delay; /* [s] Idle time before idle-mode balancing may start (Libre Solar 30 min) */
    int balancer_max_cells; /* [1] Most cells bleeding at once; 0 means no limit */
    int balancer_no_adjacent; /* [1] Never bleed two adjacent cells at once (the bq769x0 hardware rule) */
    double balancer_decision_period; /* [s] How often the policy decides; switches hold between decisions */
    double balancer_min_cell_voltage; /* [V] No cell balances below this voltage (foxBMS 2.0 V) */
    double balancer_max_temperature; /* [degC] No balancing when the hottest measured temperature is above this (foxBMS 70 degC) */
    double balancer_rest_time; /* [s] SOC-history policy: rest needed before cell voltages are read as OCV (foxBMS 3 h) */
    double balancer_soc_start_delta; /* [1] SOC-history policy: a cell's SOC surplus over the lowest cell that is worth bleeding */
    double protection_cell_overvoltage; /* [V] Charging stops when a measured cell voltage stays above this for the delay (EVE LF280K charge cut-off 3.65 V; Libre Solar ships 3.80 V) */
    double protection_cell_overvoltage_release; /* [V] Charging resumes when every measured cell voltage is below this (Libre Solar 3.40 V) */
    double protection_cell_overvoltage_delay; /* [s] Cell over-voltage delay (Libre Solar 2 s) */
    double protection_cell_undervoltage; /* [V] Discharging stops when a measured cell voltage stays below this for the delay (EVE LF280K and Libre Solar 2.50 V) */
    double protection_cell_undervoltage_release; /* [V] Discharging resumes when every measured cell voltage is above this (Libre Solar 3.10 V) */
    double protection_cell_undervoltage_delay; /* [s] Cell under-voltage delay (Libre Solar 2 s) */
    double protection_charge_overcurrent; /* [A] Charging stops when the measured charge current stays above this for the delay (Libre Solar 1C) */
    double protection_charge_overcurrent_delay; /* [s] Charge over-current delay (Libre Solar 320 ms) */
    double protection_charge_overcurrent_recovery; /* [s] Time a charge over-current trip holds before charging may resume */
    double protection_discharge_overcurrent; /* [A] Discharging stops when the measured discharge current (magnitude) stays above this for the delay (Libre Solar 1C) */
    double protection_discharge_overcurrent_delay; /* [s] Discharge over-current delay (Libre Solar 320 ms) */
    double protection_discharge_overcurrent_recovery; /* [s] Time a discharge over-current trip holds before discharging may resume */
    double protection_charge_overtemperature; /* [degC] Charging stops above this measured temperature (Libre Solar charge window 0..45 degC) */
    double protection_charge_overtemperature_release; /* [degC] Charging resumes below this (Libre Solar 5 degC hysteresis) */
    double protection_charge_overtemperature_delay; /* [s] Charge over-temperature delay */
    double protection_charge_undertemperature; /* [degC] Charging stops below this measured temperature (Libre Solar 0 degC) */
    double protection_charge_undertemperature_release; /* [degC] Charging resumes above this (Libre Solar 5 degC hysteresis) */
    double protection_charge_undertemperature_delay; /* [s] Charge under-temperature delay */
    double protection_discharge_overtemperature; /* [degC] Discharging stops above this measured temperature (Libre Solar discharge window -20..45 degC) */
    double protection_discharge_overtemperature_release; /* [degC] Discharging resumes below this (Libre Solar 5 degC hysteresis) */
    double protection_discharge_overtemperature_delay; /* [s] Discharge over-temperature delay */
    double protection_discharge_undertemperature; /* [degC] Discharging stops below this measured temperature (Libre Solar -20 degC) */
    double protection_discharge_undertemperature_release; /* [degC] Discharging resumes above this (Libre Solar 5 degC hysteresis) */
    double protection_discharge_undertemperature_delay; /* [s] Discharge under-temperature delay */
    double limits_cell_charge_voltage; /* [V] Cell voltage the charge voltage limit aims for: CVL is this times the cells in series, lowered when the highest cell is above it (Libre Solar charge voltage limit 3.55 V) */
    double limits_max_charge_current; /* [A] Charge current limit when no cell is near full */
    double limits_max_discharge_current; /* [A] Discharge current limit when no cell is near empty */
    double limits_ccl_voltage[4]; /* [V] Highest-cell voltages at which the charge current limit steps down (ascending; DOMAIN.md typical rule) */
    double limits_ccl_fraction[4]; /* [1] Fraction of the maximum charge current allowed from each ccl_voltage step up */
    double limits_dcl_voltage[4]; /* [V] Lowest-cell voltages at which the discharge current limit steps down (descending) */
    double limits_dcl_fraction[4]; /* [1] Fraction of the maximum discharge current allowed from each dcl_voltage step down */
    double sensor_voltage_noise; /* [V] Standard deviation of the cell-voltage measurement noise */
    double sensor_voltage_resolution; /* [V] Cell-voltage ADC step (the reading is rounded to it); 0 for none */
    double sensor_temperature_noise; /* [K] Standard deviation of the temperature measurement noise */
    double sensor_temperature_resolution; /* [K] Temperature reading step; 0 for none */
    double sensor_current_gain_error; /* [1] Relative gain error of the BMS current sensor (the reading is (1 + gain error) times the true current plus the offset) */
    double sensor_current_offset; /* [A] Offset of the BMS current sensor */
    double sensor_current_noise; /* [A] Standard deviation of the current measurement noise */
    double sensor_current_resolution; /* [A] Current reading step; 0 for none */
    int sensor_seed; /* [1] Seed of the measurement noise generator (same seed, same noise) */
    double detect_block; /* [s] Block length of the divergence detector: samples are summed per block and the estimators update once per block */
    double detect_edge_current; /* [1/h] Current step (as a C-rate) that counts as an edge for the resistance estimator */
    double detect_resistance_memory; /* [1] Memory of the resistance estimator (and the current steps its baseline needs), in multiples of the current steps needed to resolve 5 % of the nominal R0 against the measured voltage noise */
    double detect_resistance_fraction; /* [1] Smallest resistance growth flagged, as a fraction of the nominal R0 (at 50 % SOC, 25 degC) */
    double detect_sigmas; /* [1] How many standard deviations an estimate must move before it can be flagged */
    double detect_jump_min; /* [V] Smallest voltage-reading jump examined as a possible sensor fault */
    double detect_confirm_time; /* [s] How long a change must persist before it is flagged (sensor steps, resistance, temperature) */
    double detect_segment_current; /* [1/h] Current (as a C-rate) above which the pack counts as charging or discharging for charge-offset runs */
    double detect_lull; /* [s] Quiet time that ends a charging or discharging run */
    double detect_min_step; /* [V] Smallest change of the median cell's voltage over a run for the run to measure charge offsets */
    double detect_charge_threshold; /* [1] Smallest change of a cell's charge offset against its peers that is flagged, as a fraction of capacity */
    double detect_temperature_threshold; /* [K] Smallest temperature departure from the other sensors that is flagged */
    double detect_bleed_resistance; /* [Ohm] Bleed resistance the logged balancing flags switch on (NaN: use balancer.bleed_resistance) */
    double detect_knee_top; /* [V] Lowest of the 48 levels (5 mV apart, upwards) at which each cell's crossing is timed on the way into the top knee */
    double detect_knee_bottom; /* [V] Highest of the 48 levels (5 mV apart, downwards) at which each cell's crossing is timed on the way into the bottom knee */
    double detect_knee_slope; /* [V] Knee levels are used only where the median cell's voltage rises at least this much per unit of SOC (a steep knee times charges precisely; a plateau does not) */
    double detect_nominal_resistance; /* [Ohm] Nominal R0 of one cell or group for the resistance threshold (NaN: from the cell tables at 50 % SOC, 25 degC) */
} twin_settings;

/* Per-cell arrays (all double; integers and booleans as whole numbers). */
typedef struct twin_cell_arrays {
    double *cell_capacity; /* [A.h] Capacity of each cell when new (spread applied); a parallel group has P times it */
    double *cell_resistance_factor; /* [1] Factor on each cell's R0 and RC resistances from the tables (spread) */
    double *cell_self_discharge; /* [A] Self-discharge current of each cell */
    double *cell_initial_soc; /* [1] SOC of each cell at the start */
    double *cell_temperature_sensor; /* [1] Whether the BMS has a temperature sensor on this cell (protection and balancing use only these) */
    double *fault_leak_current; /* [A] Injected fault: extra leakage current (micro-short) draining the cell */
    double *fault_series_resistance; /* [Ohm] Injected fault: extra resistance in series with the cell inside its sensed terminals (loose busbar, ageing) */
    double *fault_capacity_loss; /* [1] Injected fault: fraction of the cell's capacity lost (SOC is kept, the stored charge shrinks with it) */
    double *fault_voltage_offset; /* [V] Injected fault: offset added to the cell's voltage reading */
    double *fault_voltage_gain_error; /* [1] Injected fault: relative gain error of the cell's voltage reading */
    double *fault_temperature_offset; /* [K] Injected fault: offset added to the cell's temperature reading */
    double *fault_balancer_stuck; /* [1] Injected fault: the cell's balancing switch stuck on (conducts whatever is commanded) or off (never conducts) */
    double *balancer_command; /* [1] External balancing command per cell (policy 'external'): +1 take charge from the cell (bleed, or donor), -1 give charge to it (active receiver), 0 nothing; the divergence detector reads it as the BMS's balancing flags, whatever the policy */
    double *measured_cell_voltage; /* [V] Cell voltage measured by a real BMS, when the twin runs alongside one (NaN when not available) */
    double *measured_temperature; /* [degC] Cell temperature measured by a real BMS (NaN for cells without a sensor) */
    double *cell_soc; /* [1] State of charge of each cell, as a fraction of its present capacity */
    double *cell_rc_voltage_1; /* [V] Voltage over the first (fastest) RC pair */
    double *cell_rc_voltage_2; /* [V] Voltage over the second RC pair (0 when the model has fewer) */
    double *cell_rc_voltage_3; /* [V] Voltage over the third RC pair (0 when the model has fewer) */
    double *cell_hysteresis; /* [1] Dynamic hysteresis state: -1 on the discharge branch, +1 on the charge branch */
    double *cell_hysteresis_sign; /* [1] Sign of the last non-zero cell current (drives the instantaneous hysteresis) */
    double *cell_temperature; /* [degC] Temperature of each cell */
    double *cell_capacity_fade; /* [1] Fraction of capacity lost to ageing (settable as the starting state of health) */
    double *cell_resistance_growth; /* [1] Relative resistance growth from ageing (settable at the start) */
    double *cell_throughput; /* [A.h] Charge that has passed through the cell's terminals, both directions counted */
    double *cell_voltage; /* [V] Terminal voltage of each cell (predicted) */
    double *cell_voltage_measured; /* [V] Cell voltage as the twin's BMS reads it: sensor faults, noise and ADC step applied */
    double *cell_ocv; /* [V] Open-circuit voltage of each cell, hysteresis included */
    double *cell_temperature_measured; /* [degC] Temperature reading of each cell's sensor (NaN where the cell has none) */
    double *cell_current; /* [A] Current through each cell's terminals: pack current plus balancing currents */
    double *cell_heat; /* [W] Heat generated in or delivered to each cell (ohmic, polarization, bleed resistor, busbars) */
    double *balancer_bleed_current; /* [A] Current through each cell's bleed resistor */
    double *balancer_transfer_current; /* [A] Net active-balancing current into each cell (negative for a donor) */
    double *balancer_active; /* [1] Balancing applied to each cell after faults: +1 charge taken from it, -1 charge given to it, 0 none */
    double *balancer_bleed_charge; /* [A.h] Charge bled from each cell so far (the accumulated bypass that Batrium watches) */
    double *balancer_transfer_charge_in; /* [A.h] Charge an active balancer has delivered to each cell so far */
    double *balancer_transfer_charge_out; /* [A.h] Charge an active balancer has taken from each cell so far */
    double *cell_present_capacity; /* [A.h] Capacity of each cell or group now: ageing and capacity faults applied */
    double *balancer_commanded; /* [1] Balancing the policy commanded for each cell, before switch faults (what a BMS log records) */
    double *residual_cell_voltage; /* [V] Predicted cell voltage minus measured.cell_voltage (NaN where no measurement is given) */
    double *residual_temperature; /* [K] Predicted cell temperature minus measured.temperature (NaN where no measurement is given) */
    double *flag_self_discharge; /* [1] Divergence flag: an extra leak drains the cell */
    double *flag_self_discharge_time; /* [s] Time the self_discharge flag was first raised (NaN: never) */
    double *flag_resistance; /* [1] Divergence flag: the cell's resistance grew */
    double *flag_resistance_time; /* [s] Time the resistance flag was first raised (NaN: never) */
    double *flag_capacity; /* [1] Divergence flag: the cell lost capacity */
    double *flag_capacity_time; /* [s] Time the capacity flag was first raised (NaN: never) */
    double *flag_voltage_sensor; /* [1] Divergence flag: the cell's voltage reading is offset */
    double *flag_voltage_sensor_time; /* [s] Time the voltage_sensor flag was first raised (NaN: never) */
    double *flag_balancer; /* [1] Divergence flag: the cell's balancing switch is stuck */
    double *flag_balancer_time; /* [s] Time the balancer flag was first raised (NaN: never) */
    double *flag_thermal; /* [1] Divergence flag: the cell's temperature departs from its peers */
    double *flag_thermal_time; /* [s] Time the thermal flag was first raised (NaN: never) */
    double *estimate_leak_current; /* [A] Extra leak current against the peers (flagged cells; stuck-on bleeding shows here too) */
    double *estimate_leak_current_sigma; /* [A] Standard deviation of estimate.leak_current */
    double *estimate_resistance_change; /* [Ohm] Resistance growth since the baseline, against the peers */
    double *estimate_resistance_change_sigma; /* [Ohm] Standard deviation of estimate.resistance_change */
    double *estimate_capacity_change; /* [1] Relative capacity change against the peers (negative: lost) */
    double *estimate_capacity_change_sigma; /* [1] Standard deviation of estimate.capacity_change */
    double *estimate_voltage_offset; /* [V] Offset of the cell's voltage reading found by the detector */
    double *estimate_voltage_offset_sigma; /* [V] Standard deviation of estimate.voltage_offset */
    double *estimate_charge_offset; /* [A.h] Change of the cell's charge against its peers since the baseline run (bleeding accounted) */
    double *estimate_charge_offset_sigma; /* [A.h] Standard deviation of estimate.charge_offset */
    double *estimate_temperature_offset; /* [K] Departure of the cell's temperature reading from the other sensors, against its baseline */
    double *estimate_bleed_error; /* [A] Bleed current that flowed minus what the balancing flags imply (positive: stuck on, negative: stuck off) */
    double *detect_deviation; /* [V] Measured cell voltage minus the median cell, resistance-corrected, over the last block */
    double *estimate_leak_current_lower_bound; /* [1] 1 while estimate.leak_current is a lower bound (the charge lost since the last landmark where the cell was calm, over the time since: the leak may have started later), 0 once measured between two landmarks */
} twin_cell_arrays;

/* X-macro over the per-cell arrays: X(name). */
#define TWIN_CELL_ARRAYS(X) \
    X(cell_capacity) \
    X(cell_resistance_factor) \
    X(cell_self_discharge) \
    X(cell_initial_soc) \
    X(cell_temperature_sensor) \
    X(fault_leak_current) \
    X(fault_series_resistance) \
    X(fault_capacity_loss) \
    X(fault_voltage_offset) \
    X(fault_voltage_gain_error) \
    X(fault_temperature_offset) \
    X(fault_balancer_stuck) \
    X(balancer_command) \
    X(measured_cell_voltage) \
    X(measured_temperature) \
    X(cell_soc) \
    X(cell_rc_voltage_1) \
    X(cell_rc_voltage_2) \
    X(cell_rc_voltage_3) \
    X(cell_hysteresis) \
    X(cell_hysteresis_sign) \
    X(cell_temperature) \
    X(cell_capacity_fade) \
    X(cell_resistance_growth) \
    X(cell_throughput) \
    X(cell_voltage) \
    X(cell_voltage_measured) \
    X(cell_ocv) \
    X(cell_temperature_measured) \
    X(cell_current) \
    X(cell_heat) \
    X(balancer_bleed_current) \
    X(balancer_transfer_current) \
    X(balancer_active) \
    X(balancer_bleed_charge) \
    X(balancer_transfer_charge_in) \
    X(balancer_transfer_charge_out) \
    X(cell_present_capacity) \
    X(balancer_commanded) \
    X(residual_cell_voltage) \
    X(residual_temperature) \
    X(flag_self_discharge) \
    X(flag_self_discharge_time) \
    X(flag_resistance) \
    X(flag_resistance_time) \
    X(flag_capacity) \
    X(flag_capacity_time) \
    X(flag_voltage_sensor) \
    X(flag_voltage_sensor_time) \
    X(flag_balancer) \
    X(flag_balancer_time) \
    X(flag_thermal) \
    X(flag_thermal_time) \
    X(estimate_leak_current) \
    X(estimate_leak_current_sigma) \
    X(estimate_resistance_change) \
    X(estimate_resistance_change_sigma) \
    X(estimate_capacity_change) \
    X(estimate_capacity_change_sigma) \
    X(estimate_voltage_offset) \
    X(estimate_voltage_offset_sigma) \
    X(estimate_charge_offset) \
    X(estimate_charge_offset_sigma) \
    X(estimate_temperature_offset) \
    X(estimate_bleed_error) \
    X(detect_deviation) \
    X(estimate_leak_current_lower_bound) \

#define TWIN_N_CELL_ARRAYS 67

/* Pack-level inputs and outputs. */
typedef struct twin_pack_vars {
    double pack_current; /* [A] Pack current asked for by the charger or load (positive = charging); the BMS may stop it */
    double pack_ambient_temperature; /* [degC] Ambient air temperature */
    double pack_voltage; /* [V] Pack terminal voltage: cell voltages plus busbar drops */
    double pack_applied_current; /* [A] Pack current that flowed: the asked current, or 0 where protection stopped that direction */
    double pack_current_measured; /* [A] Pack current as the twin's BMS reads it */
    double pack_max_cell_voltage; /* [V] Highest measured cell voltage */
    double pack_min_cell_voltage; /* [V] Lowest measured cell voltage */
    double pack_cell_voltage_spread; /* [V] Highest minus lowest measured cell voltage */
    double pack_soc; /* [1] Mean cell SOC */
    double pack_soc_spread; /* [1] Highest minus lowest cell SOC */
    double bms_charge_enable; /* [1] The BMS allows charging (no charge-side protection tripped) */
    double bms_discharge_enable; /* [1] The BMS allows discharging (no discharge-side protection tripped) */
    double bms_cvl; /* [V] Charge voltage limit the BMS sends to the inverter */
    double bms_ccl; /* [A] Charge current limit the BMS sends to the inverter */
    double bms_dcl; /* [A] Discharge current limit the BMS sends to the inverter */
    double protection_cell_overvoltage_tripped; /* [1] Cell over-voltage protection is tripped */
    double protection_cell_undervoltage_tripped; /* [1] Cell under-voltage protection is tripped */
    double protection_charge_overcurrent_tripped; /* [1] Charge over-current protection is tripped */
    double protection_discharge_overcurrent_tripped; /* [1] Discharge over-current protection is tripped */
    double protection_charge_overtemperature_tripped; /* [1] Charge over-temperature protection is tripped */
    double protection_charge_undertemperature_tripped; /* [1] Charge under-temperature protection is tripped */
    double protection_discharge_overtemperature_tripped; /* [1] Discharge over-temperature protection is tripped */
    double protection_discharge_undertemperature_tripped; /* [1] Discharge under-temperature protection is tripped */
    double balancer_energy_dissipated; /* [W.h] Energy turned into heat by balancing so far: bleed resistors plus active converter losses */
    double balancer_charge_moved; /* [A.h] Charge taken from cells by balancing so far (bled or transferred) */
    double balancer_active_cells; /* [1] Cells the balancer is working on now (bleeding, giving or receiving) */
    double pack_max_temperature; /* [degC] Highest temperature reading */
    double pack_min_temperature; /* [degC] Lowest temperature reading */
    double detect_samples; /* [1] Samples the detector has used */
    double detect_runs; /* [1] Charging and discharging runs that measured charge offsets */
    double detect_gaps; /* [1] Gaps in the measurements the detector re-synchronized after */
    double detect_flags; /* [1] Cells with at least one divergence flag */
} twin_pack_vars;

typedef enum { TWIN_WHERE_SETTINGS, TWIN_WHERE_CELLS, TWIN_WHERE_PACK } twin_where;
typedef enum { TWIN_TYPE_REAL, TWIN_TYPE_INTEGER, TWIN_TYPE_BOOLEAN, TWIN_TYPE_ENUMERATION } twin_type;
typedef enum { TWIN_CAUSALITY_PARAMETER, TWIN_CAUSALITY_STRUCTURAL, TWIN_CAUSALITY_INPUT,
               TWIN_CAUSALITY_OUTPUT, TWIN_CAUSALITY_LOCAL } twin_causality;
typedef enum { TWIN_VARIABILITY_FIXED, TWIN_VARIABILITY_TUNABLE, TWIN_VARIABILITY_DISCRETE,
               TWIN_VARIABILITY_CONTINUOUS } twin_variability;

/* One row of the variable table. offset is into twin_settings, twin_cell_arrays (a pointer)
   or twin_pack_vars, by `where`. length is the vector length of a settings entry, 0 for a
   per-cell array (its length is the cell count), 1 otherwise. */
typedef struct twin_var_info {
    const char *id;
    unsigned int vr;
    twin_where where;
    twin_type type;
    twin_causality causality;
    twin_variability variability;
    size_t offset;
    int length;
    double min, max, start;
    const char *unit;
    int optional; /* NaN allowed: use the fallback */
} twin_var_info;

#define TWIN_N_VARS 192
extern const twin_var_info twin_vars[TWIN_N_VARS];

/* The row with value reference vr, or NULL (rows are sorted by vr). */
const twin_var_info *twin_var_by_vr(unsigned int vr);

/* Every settings field at its spec start value; fields without one get TWIN_NONE (reals)
   or -1 (integers), which twin_settings_check rejects until they are set. */
void twin_settings_defaults(twin_settings *s);

#endif
