/*
 * Windows pool files: the open-file record, opening an existing file,
 * closing it (with the clean-up of a removed pool), reading its size and
 * header, and mapping it (CreateFileMappingW + MapViewOfFile, prefetched).
 */
#include <stdlib.h>
#include <string.h>

#include "mmpool.h"
#include "win32.h"

char *mmp__win_copy(const char *s) {
    size_t len = strlen(s) + 1;
    char *c = malloc(len);
    if (c != NULL) {
        memcpy(c, s, len);
    }
    return c;
}

int mmp__win_record(mmp__file **out, HANDLE h, const char *path) {
    BY_HANDLE_FILE_INFORMATION info;
    if (!GetFileInformationByHandle(h, &info)) {
        return mmp__win_error(GetLastError());
    }
    mmp__file *f = calloc(1, sizeof *f);
    char *copy = mmp__win_copy(path);
    if (f == NULL || copy == NULL) {
        free(f);
        free(copy);
        return MMPOOL_ESYS;
    }
    f->h = h;
    f->path = copy;
    f->volume = info.dwVolumeSerialNumber;
    f->index = ((uint64_t)info.nFileIndexHigh << 32) | info.nFileIndexLow;
    InitializeSRWLock(&f->held_lock);
    *out = f;
    return 0;
}

void mmp__file_close(mmp__file *f) {
    if (f == NULL) {
        return;
    }
    /* The system drops the locks of a closed handle only "when resources
     * allow"; an explicit unlock frees our entry at once. */
    while (f->held_count > 0) {
        mmp__lock_release(f, f->held[f->held_count - 1]);
    }
    if (f->event != NULL) {
        CloseHandle(f->event);
    }
    for (uint32_t i = 0; i < MMP__WIN_ENTRIES; i++) {
        if (f->events[i] != NULL) {
            CloseHandle(f->events[i]);
        }
    }
    /* The caller has unmapped f: a file never linked can be deleted now if
     * marking it failed while it was mapped, and so can a removed one. */
    if (f->temp != NULL) {
        mmp__win_set_delete(f->h, true);
    } else {
        mmp__win_delete_if_gone(f);
    }
    CloseHandle(f->h);
    free(f->temp);
    free(f->path);
    free(f);
}

bool mmp__file_inherited(const mmp__file *f) {
    (void)f;
    return false; /* no fork() on Windows */
}

int mmp__file_open(mmp__file **out, const char *path) {
    wchar_t *w;
    int rc = mmp__win_path(path, &w);
    if (rc != 0) {
        return rc;
    }
    /* FILE_FLAG_OPEN_REPARSE_POINT: a symbolic link is opened itself, not
     * followed, and refused below. */
    HANDLE h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE, MMP__SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD err = GetLastError();
        /* A directory cannot be opened this way; it is not a pool either. */
        DWORD attrs = GetFileAttributesW(w);
        free(w);
        if (err == ERROR_ACCESS_DENIED && attrs != INVALID_FILE_ATTRIBUTES &&
            (attrs & FILE_ATTRIBUTE_DIRECTORY) != 0) {
            return MMPOOL_EFORMAT;
        }
        return mmp__win_error(err);
    }
    free(w);
    BY_HANDLE_FILE_INFORMATION info;
    if (GetFileType(h) != FILE_TYPE_DISK || !GetFileInformationByHandle(h, &info) ||
        (info.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) != 0) {
        CloseHandle(h);
        return MMPOOL_EFORMAT;
    }
    rc = mmp__win_record(out, h, path);
    if (rc != 0) {
        CloseHandle(h);
    }
    return rc;
}

int mmp__file_size(mmp__file *f, uint64_t *size) {
    LARGE_INTEGER s;
    if (!GetFileSizeEx(f->h, &s)) {
        return mmp__win_error(GetLastError());
    }
    *size = (uint64_t)s.QuadPart;
    return 0;
}

int mmp__file_read(mmp__file *f, uint64_t offset, void *buf, size_t len) {
    size_t done = 0;
    while (done < len) {
        OVERLAPPED at = {.Offset = (DWORD)(offset + done),
                         .OffsetHigh = (DWORD)((offset + done) >> 32)};
        DWORD want = len - done > 1u << 30 ? 1u << 30 : (DWORD)(len - done);
        DWORD got = 0;
        if (!ReadFile(f->h, (char *)buf + done, want, &got, &at)) {
            DWORD err = GetLastError();
            return err == ERROR_HANDLE_EOF ? MMPOOL_EFORMAT : mmp__win_error(err);
        }
        if (got == 0) {
            return MMPOOL_EFORMAT; /* the file ends early */
        }
        done += got;
    }
    return 0;
}

int mmp__file_map(mmp__file *f, uint64_t size, void **addr) {
    if (size > SIZE_MAX || size == 0) {
        return size == 0 ? MMPOOL_EINVAL : MMPOOL_ENOSPC;
    }
    HANDLE m =
        CreateFileMappingW(f->h, NULL, PAGE_READWRITE, (DWORD)(size >> 32), (DWORD)size, NULL);
    if (m == NULL) {
        return mmp__win_error(GetLastError());
    }
    void *p = MapViewOfFile(m, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, (SIZE_T)size);
    DWORD err = GetLastError();
    /* The view keeps the section alive. */
    CloseHandle(m);
    if (p == NULL) {
        return err == ERROR_NOT_ENOUGH_MEMORY ? MMPOOL_ENOSPC : mmp__win_error(err);
    }
    /* Fault the pages in now, as MAP_POPULATE does on Linux: a first frame
     * into fresh pages costs much more than one into faulted pages. A hint
     * only; its failure changes nothing. */
    WIN32_MEMORY_RANGE_ENTRY range = {.VirtualAddress = p, .NumberOfBytes = (SIZE_T)size};
    PrefetchVirtualMemory(GetCurrentProcess(), 1, &range, 0);
    *addr = p;
    return 0;
}

void mmp__file_unmap(mmp__file *f, void *addr, uint64_t size) {
    (void)f;
    (void)size;
    if (addr != NULL) {
        UnmapViewOfFile(addr);
    }
}
