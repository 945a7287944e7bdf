/* flawed_ov_delay.c: "voltage_delta 1.1", an update with one bug for `twin validate` to catch.
 *
 * The over-voltage delay used to be counted on a 1 ms tick; the update moved protection into the
 * 1 s control loop, which counts seconds, and kept the constant: 2000 (it was milliseconds). The
 * over-voltage channel now trips after 2000 s above 3.65 V instead of 2 s. Nothing shows it while
 * the inverter keeps to the BMS's charge limits; a charger that does not (or a cell running ahead
 * of the others) pushes a cell past 3.65 V and the charge FET stays closed for half an hour.
 *
 *     twin validate --firmware examples/firmware/flawed_ov_delay.c \
 *         --baseline examples/firmware/voltage_delta.c \
 *         --scenarios examples/validation/scenarios --limits examples/validation/limits.toml
 */
#define OV_DELAY_S 2000.0 /* BUG: was OV_DELAY_MS 2000 on the 1 ms tick */
#define FIRMWARE_NAME "voltage_delta 1.1"
#include "voltage_delta.c"
