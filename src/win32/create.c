/*
 * Creating a Windows pool file: under a temporary name in the target
 * directory, marked for deletion until a rename that never replaces puts it
 * in place, with an owner-only security descriptor for an owner-only mode.
 */
#include <stdlib.h>

#include "mmpool.h"
#include "win32.h"

/* The names of pools being created, in the pool's directory. */
#define MMP__NEW_PREFIX ".mmpool-new-"
/* Temporary names tried before giving up with MMPOOL_EEXIST. */
#define MMP__NEW_ATTEMPTS 16

/* An owner-only descriptor: one entry granting the current user full
 * access, and protected, so that the directory's inheritable entries are
 * not added to it. The counterpart of mode 0600. buf holds the ACL and the
 * user's SID. */
typedef struct owner_only {
    SECURITY_ATTRIBUTES sa;
    SECURITY_DESCRIPTOR sd;
    union {
        unsigned char bytes[512];
        ACL align; /* an ACL must be DWORD aligned */
    } acl;
    union {
        unsigned char bytes[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
        TOKEN_USER user;
    } token;
} owner_only;

static int owner_only_init(owner_only *o) {
    HANDLE token;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
        return MMPOOL_ESYS;
    }
    DWORD len;
    BOOL ok = GetTokenInformation(token, TokenUser, &o->token, sizeof o->token, &len);
    CloseHandle(token);
    PACL acl = &o->acl.align;
    if (!ok || !InitializeAcl(acl, sizeof o->acl, ACL_REVISION) ||
        !AddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, o->token.user.User.Sid) ||
        !InitializeSecurityDescriptor(&o->sd, SECURITY_DESCRIPTOR_REVISION) ||
        !SetSecurityDescriptorDacl(&o->sd, TRUE, acl, FALSE) ||
        !SetSecurityDescriptorControl(&o->sd, SE_DACL_PROTECTED, SE_DACL_PROTECTED)) {
        return MMPOOL_ESYS;
    }
    o->sa.nLength = sizeof o->sa;
    o->sa.lpSecurityDescriptor = &o->sd;
    o->sa.bInheritHandle = FALSE;
    return 0;
}

int mmp__file_reserve(mmp__file *f, uint64_t size) {
    FILE_STANDARD_INFO st;
    if (!GetFileInformationByHandleEx(f->h, FileStandardInfo, &st, sizeof st)) {
        return mmp__win_error(GetLastError());
    }
    /* An allocation below the end of file would truncate the file. */
    if ((uint64_t)st.AllocationSize.QuadPart >= size || (uint64_t)st.EndOfFile.QuadPart > size) {
        return 0;
    }
    FILE_ALLOCATION_INFO a = {.AllocationSize.QuadPart = (LONGLONG)size};
    if (SetFileInformationByHandle(f->h, FileAllocationInfo, &a, sizeof a)) {
        return 0;
    }
    DWORD err = GetLastError();
    /* Without support the pool still works; only the early ENOSPC is lost. */
    if (err == ERROR_INVALID_PARAMETER || err == ERROR_NOT_SUPPORTED ||
        err == ERROR_INVALID_FUNCTION || err == ERROR_CALL_NOT_IMPLEMENTED) {
        return 0;
    }
    return mmp__win_error(err);
}

/* Creates a new file with security sa (NULL: the directory's inherited ACL)
 * under a temporary name in the directory of path, and writes that name
 * into tmp (cap bytes). */
static int create_temp(const char *path, SECURITY_ATTRIBUTES *sa, char *tmp, size_t cap,
                       HANDLE *out) {
    for (int attempt = 0; attempt < MMP__NEW_ATTEMPTS; attempt++) {
        wchar_t *w;
        int rc = mmp__win_temp_name(path, MMP__NEW_PREFIX, tmp, cap);
        if (rc == 0) {
            rc = mmp__win_path(tmp, &w);
        }
        if (rc != 0) {
            return rc;
        }
        /* DELETE access: the file is renamed into place later. */
        HANDLE h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE | DELETE, MMP__SHARE_ALL, sa,
                               CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
        DWORD err = GetLastError();
        free(w);
        if (h != INVALID_HANDLE_VALUE) {
            *out = h;
            return 0;
        }
        if (err != ERROR_FILE_EXISTS) {
            return mmp__win_error(err);
        }
    }
    return MMPOOL_EEXIST;
}

/* The record of the new file h at its temporary name tmp. With that name
 * recorded, mmp__file_close deletes the file, also where marking it for
 * deletion was refused. On failure h is closed. */
static int temp_record(mmp__file **out, HANDLE h, const char *tmp) {
    mmp__file *f = NULL;
    char *temp = mmp__win_copy(tmp);
    int rc = temp == NULL ? MMPOOL_ESYS : mmp__win_record(&f, h, tmp);
    if (rc != 0) {
        free(temp);
        CloseHandle(h);
        return rc;
    }
    f->temp = temp;
    *out = f;
    return 0;
}

/* Sets the size of the new file f and reserves its storage. */
static int set_size(mmp__file *f, uint64_t size) {
    FILE_END_OF_FILE_INFO eof = {.EndOfFile.QuadPart = (LONGLONG)size};
    return SetFileInformationByHandle(f->h, FileEndOfFileInfo, &eof, sizeof eof)
               ? mmp__file_reserve(f, size)
               : mmp__win_error(GetLastError());
}

int mmp__file_create_unnamed(mmp__file **out, const char *path, uint64_t size, uint32_t mode) {
    owner_only sec;
    SECURITY_ATTRIBUTES *sa = NULL;
    /* Mode bits for group or others: the directory's inherited ACL decides
     * who else may open the pool. Owner bits only: nobody else may. */
    if ((mode & 077) == 0) {
        int rc = owner_only_init(&sec);
        if (rc != 0) {
            return rc;
        }
        sa = &sec.sa;
    }
    char tmp[MMP__TEMP_MAX];
    HANDLE h;
    int rc = create_temp(path, sa, tmp, sizeof tmp, &h);
    if (rc != 0) {
        return rc;
    }
    /* Deleted on close until linked: a creator that dies before linking
     * leaves nothing behind, like an unnamed file. */
    mmp__win_set_delete(h, true);
    mmp__file *f = NULL;
    rc = temp_record(&f, h, tmp);
    if (rc != 0) {
        return rc;
    }
    rc = set_size(f, size);
    if (rc != 0) {
        mmp__file_close(f);
        return rc;
    }
    *out = f;
    return 0;
}

int mmp__file_link(mmp__file *f, const char *path) {
    if (f->temp == NULL) {
        return MMPOOL_EINVAL; /* not made by mmp__file_create_unnamed */
    }
    /* A rename that fails if path exists: whoever renames first wins, the
     * others get MMPOOL_EEXIST. A file marked for deletion cannot be
     * renamed, so the mark goes first and comes back if the rename fails
     * (or at close, if the file is mapped by then). */
    int rc = mmp__win_set_delete(f->h, false) ? 0 : mmp__win_error(GetLastError());
    if (rc == 0) {
        rc = mmp__win_rename(f->h, path);
    }
    if (rc != 0) {
        mmp__win_set_delete(f->h, true);
        return rc;
    }
    /* From now on f is at path; a copy that cannot be made only costs the
     * clean-up after a later removal. */
    char *copy = mmp__win_copy(path);
    free(f->path);
    f->path = copy;
    free(f->temp);
    f->temp = NULL;
    return 0;
}
