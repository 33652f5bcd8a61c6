// Filled by later issues.
