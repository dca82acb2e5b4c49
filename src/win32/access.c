/*
 * Who owns a pool file: the owner SID of its security descriptor, against
 * the process token's user and its default owner for new objects. Windows
 * has neither mode bits nor sticky directories: who may open a pool is its
 * ACL, and bare names live in a per-user directory.
 */
#include <string.h>

#include "mmpool.h"
#include "win32.h"

#include <aclapi.h>

/* A SID out of the process token: its user, or the owner it gives new
 * objects (an elevated administrator's is the Administrators group). */
typedef union token_sid {
    TOKEN_USER user;
    TOKEN_OWNER owner;
    unsigned char bytes[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
} token_sid;

int mmp__file_access_get(mmp__file *f, mmp__file_access *out) {
    memset(out, 0, sizeof *out);
    out->mode = 0600;
    PSID owner = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    DWORD err = GetSecurityInfo(f->h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, NULL,
                                NULL, NULL, &sd);
    if (err != ERROR_SUCCESS) {
        return mmp__win_error(err);
    }
    HANDLE token;
    token_sid user, creator;
    DWORD len;
    bool got = OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token);
    if (got) {
        got = GetTokenInformation(token, TokenUser, &user, sizeof user, &len) &&
              GetTokenInformation(token, TokenOwner, &creator, sizeof creator, &len);
        CloseHandle(token);
    }
    if (got && owner != NULL && IsValidSid(owner)) {
        UCHAR n = *GetSidSubAuthorityCount(owner);
        out->owner = n > 0 ? *GetSidSubAuthority(owner, n - 1u) : 0;
        out->mine = EqualSid(owner, user.user.User.Sid) || EqualSid(owner, creator.owner.Owner);
    }
    LocalFree(sd);
    return got ? 0 : MMPOOL_ESYS;
}
