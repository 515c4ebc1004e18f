/*
 * solc.h - Solidity contracts compiled at test time with the pinned
 * node_modules/.bin/solcjs, so tests deploy what the source says rather
 * than a checked-in blob.
 */
#ifndef KP_TESTS_SUPPORT_SOLC_H
#define KP_TESTS_SUPPORT_SOLC_H

/* Compile contract `contract` of the Solidity file `sol` (imports are
 * resolved from its directory) in a temporary directory.
 * Returns: 0 and *bin, the creation code as hex without 0x (free it), or
 * -1 (with the reason on stderr).   In: sol, contract */
int ts_solc_file(char **bin, const char *sol, const char *contract);

/* The same for Solidity source text, written to <contract>.sol in a
 * temporary directory first. */
int ts_solc_source(char **bin, const char *source, const char *contract);

#endif
