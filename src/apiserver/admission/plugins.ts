// Imports every admission plugin so each registers itself with types.ts.
