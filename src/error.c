/* Error names and messages, generated from one table. */
#include "mmpool.h"

#include "core.h"

/* Both from MMPOOL_ERRORS (mmpool.h), the only list of mmpool's errors. */
const char *mmpool_strerror(int err) {
#define MMP__MESSAGE(name, value, message)                                                         \
    case name:                                                                                     \
        return message;
    switch (err) { MMPOOL_ERRORS(MMP__MESSAGE) }
#undef MMP__MESSAGE
    return "unknown error";
}

const char *mmpool_err_name(int err) {
#define MMP__NAME(name, value, message)                                                            \
    case name:                                                                                     \
        return #name;
    switch (err) { MMPOOL_ERRORS(MMP__NAME) }
#undef MMP__NAME
    return "MMPOOL_UNKNOWN";
}

#define MMP__STR2(x) #x
#define MMP__STR(x) MMP__STR2(x)
const char *mmpool_version(void) {
    return MMP__STR(MMPOOL_VERSION_MAJOR) "." MMP__STR(MMPOOL_VERSION_MINOR) "." MMP__STR(
        MMPOOL_VERSION_PATCH);
}

uint64_t mmpool_now_ns(void) {
    return mmp__monotonic_ns();
}
