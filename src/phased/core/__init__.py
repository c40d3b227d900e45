"""The pure domain of phased: values in, values out; no I/O, no clock."""
