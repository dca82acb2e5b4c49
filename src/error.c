/* Error names and messages, generated from one table. */
#include "mmpool.h"

#include "core.h"

/* X(code, name, message): the only list of mmpool's errors. */
#define MMP__ERRORS(X)                                                                             \
    X(MMPOOL_OK, "MMPOOL_OK", "success")                                                           \
    X(MMPOOL_EINVAL, "MMPOOL_EINVAL", "invalid argument")                                          \
    X(MMPOOL_ENOENT, "MMPOOL_ENOENT", "no such pool")                                              \
    X(MMPOOL_EEXIST, "MMPOOL_EEXIST", "pool already exists")                                       \
    X(MMPOOL_EACCES, "MMPOOL_EACCES", "permission denied")                                         \
    X(MMPOOL_EFORMAT, "MMPOOL_EFORMAT", "not an mmpool file or damaged pool")                      \
    X(MMPOOL_EMISMATCH, "MMPOOL_EMISMATCH", "slot capacity or count differ from the pool")         \
    X(MMPOOL_E2BIG, "MMPOOL_E2BIG", "frame larger than the slot capacity")                         \
    X(MMPOOL_ENOSPC, "MMPOOL_ENOSPC", "no space left for the pool or the frame")                   \
    X(MMPOOL_EAGAIN, "MMPOOL_EAGAIN", "no new frame")                                              \
    X(MMPOOL_EBUSY, "MMPOOL_EBUSY", "no free slot")                                                \
    X(MMPOOL_ETIMEDOUT, "MMPOOL_ETIMEDOUT", "timed out")                                           \
    X(MMPOOL_ESYS, "MMPOOL_ESYS", "operating-system error")                                        \
    X(MMPOOL_ECANCELED, "MMPOOL_ECANCELED", "interrupted")                                         \
    X(MMPOOL_ESTALE, "MMPOOL_ESTALE", "pool was unlinked")                                         \
    X(MMPOOL_ETOOMANY, "MMPOOL_ETOOMANY", "too many handles attached to the pool")

const char *mmpool_strerror(int err) {
#define MMP__MSG(code, name, msg)                                                                  \
    case code:                                                                                     \
        return msg;
    switch (err) { MMP__ERRORS(MMP__MSG) }
#undef MMP__MSG
    return "unknown error";
}

const char *mmpool_err_name(int err) {
#define MMP__NAME(code, name, msg)                                                                 \
    case code:                                                                                     \
        return name;
    switch (err) { MMP__ERRORS(MMP__NAME) }
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
