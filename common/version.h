/* The version of libnoleak and its tools, in one place. */
#ifndef NL_VERSION_H
#define NL_VERSION_H

#define NL_VERSION "0.1.0"

#endif
