/*
 * cli_signer.h - `keeper signer-address`: load the signing key exactly as
 * the daemon would and print its address (EIP-55), so an operator can
 * check a keystore and its password, or a key file, before going live.
 */
#ifndef KP_KEEPER_CLI_SIGNER_H
#define KP_KEEPER_CLI_SIGNER_H

/* keeper signer-address --keystore PATH (--password-file PATH |
 *                        --password-env NAME)
 *                      | --key-file PATH
 *                      | --key-env NAME
 * With no option the key comes from $KEEPER_PRIVATE_KEY (warned).
 * argv[0] is the subcommand's own name.
 * Returns: the exit status (cli.h): 0, 1 (key cannot be loaded), 2
 *          (usage). */
int cli_signer_address(int argc, char **argv);

#endif
