/*
 * version.h - the keeper's version, shown by `keeper --version`, in
 * /status and in keeper_build_info.
 */
#ifndef KP_KEEPER_VERSION_H
#define KP_KEEPER_VERSION_H

#ifndef KEEPER_VERSION
#define KEEPER_VERSION "0.1.0"
#endif

#endif
