/* Power-loss model for `community-hub bench durability --power-loss` (LD_PRELOAD shim).
 *
 * For the files directly inside POWERLOSS_DIR (and that folder itself) the shim keeps, per file, an undo log in
 * POWERLOSS_LOG: before every write/pwrite/writev/ftruncate/fallocate it appends the bytes the call will
 * overwrite (and the file's size before it); after a successful fsync/fdatasync of the file it drops what that
 * fsync made durable. For the folder it logs each file it creates and each name it unlinks, dropped by an fsync
 * of the folder. After a SIGKILL the bench (the parent process) applies what is left, newest first: each file is
 * then exactly as of its last fsync, and files created since the folder's last fsync are gone.
 *
 * The shim only observes: every call still does what it was asked. The logs are appended with raw syscalls
 * (never through the functions interposed here). Not modelled, but reported in POWERLOSS_LOG/@notes.log:
 * renames, O_TRUNC opens, shared writable mmaps of a tracked file, fds obtained by dup. Files whose name ends in
 * "-shm" are not tracked: SQLite writes that wal-index through mmap, and the bench deletes it after every cut
 * (after a power cut it is stale, and SQLite rebuilds it from the WAL).
 *
 * Entry layout (native byte order): u32 magic, u32 kind, i64 offset, i64 prev_size, u64 length, then length
 * bytes. kind 1 write pre-image (offset, file size before, old bytes); 2 sync (offset = log position up to which
 * entries are durable); 3 create (data = name); 4 unlink (data = name; in a file's own log it also ends that
 * inode's entries).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define PL_MAGIC 0x4e55504cu
#define K_WRITE 1u
#define K_SYNC 2u
#define K_CREATE 3u
#define K_UNLINK 4u
#define MAX_TRACKED 64
#define MAX_FDS 65536
#define CHUNK 32768

struct pl_entry {
    uint32_t magic;
    uint32_t kind;
    int64_t offset;
    int64_t prev_size;
    uint64_t length;
};

struct tracked {
    char name[NAME_MAX + 1]; /* "" for the folder itself */
    int used;
    int log_fd;
    int64_t log_len;
    int syncing; /* fsyncs in progress: the log may be emptied only when one alone finds nothing new */
    pthread_mutex_t mu;
};

static struct tracked files[MAX_TRACKED];
static int fd_index[MAX_FDS]; /* tracked index + 1; 0: not tracked */
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;
static char watch_dir[PATH_MAX];
static size_t watch_len;
static char log_dir[PATH_MAX];
static int enabled;

static int (*real_ftruncate)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_close)(int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_posix_fallocate)(int, off_t, off_t);

__attribute__((constructor)) static void pl_init(void) {
    real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_close = dlsym(RTLD_NEXT, "close");
    real_unlink = dlsym(RTLD_NEXT, "unlink");
    real_unlinkat = dlsym(RTLD_NEXT, "unlinkat");
    real_rename = dlsym(RTLD_NEXT, "rename");
    real_renameat = dlsym(RTLD_NEXT, "renameat");
    real_mmap = dlsym(RTLD_NEXT, "mmap");
    real_fallocate = dlsym(RTLD_NEXT, "fallocate");
    real_posix_fallocate = dlsym(RTLD_NEXT, "posix_fallocate");
    const char *dir = getenv("POWERLOSS_DIR");
    const char *log = getenv("POWERLOSS_LOG");
    if (dir == NULL || log == NULL || strlen(dir) >= sizeof(watch_dir) - 1 || strlen(log) >= sizeof(log_dir) - 32)
        return;
    strcpy(watch_dir, dir);
    watch_len = strlen(watch_dir);
    while (watch_len > 1 && watch_dir[watch_len - 1] == '/')
        watch_dir[--watch_len] = '\0';
    strcpy(log_dir, log);
    enabled = 1;
}

static void note(const char *what, const char *name) {
    char path[PATH_MAX + 16];
    char line[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/@notes.log", log_dir);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    int n = snprintf(line, sizeof(line), "%s %s\n", what, name);
    if (n > 0)
        syscall(SYS_write, fd, line, (size_t)n);
    syscall(SYS_close, fd);
}

/* The tracked name of `path` (relative to the cwd or absolute): 0 and `name` set, or -1 when not tracked.
 * The folder itself gives the name "". Only direct children count; "-shm" files are left alone. */
static int classify(int dirfd, const char *path, char *name) {
    char full[PATH_MAX];
    if (!enabled || path == NULL)
        return -1;
    if (path[0] == '/') {
        if (strlen(path) >= sizeof(full))
            return -1;
        strcpy(full, path);
    } else {
        if (dirfd != AT_FDCWD || getcwd(full, sizeof(full)) == NULL || strlen(full) + strlen(path) + 2 > sizeof(full))
            return -1;
        strcat(full, "/");
        strcat(full, path);
    }
    size_t len = strlen(full);
    while (len > 1 && full[len - 1] == '/')
        full[--len] = '\0';
    if (strncmp(full, watch_dir, watch_len) != 0)
        return -1;
    if (full[watch_len] == '\0') {
        name[0] = '\0';
        return 0;
    }
    if (full[watch_len] != '/')
        return -1;
    const char *rest = full + watch_len + 1;
    size_t rest_len = strlen(rest);
    if (rest_len == 0 || rest_len > NAME_MAX || strchr(rest, '/') != NULL)
        return -1;
    if (rest_len >= 4 && strcmp(rest + rest_len - 4, "-shm") == 0)
        return -1;
    strcpy(name, rest);
    return 0;
}

/* Index of the tracked entry for `name`, opening its log on first use; -1 if the table is full. */
static int tracked_index(const char *name) {
    pthread_mutex_lock(&table_mu);
    int free_slot = -1;
    for (int i = 0; i < MAX_TRACKED; i++) {
        if (files[i].used && strcmp(files[i].name, name) == 0) {
            pthread_mutex_unlock(&table_mu);
            return i;
        }
        if (!files[i].used && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0) {
        pthread_mutex_unlock(&table_mu);
        note("too-many-files", name);
        return -1;
    }
    char path[PATH_MAX + NAME_MAX + 16];
    snprintf(path, sizeof(path), "%s/%s.undo", log_dir, name[0] ? name : "@dir");
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        pthread_mutex_unlock(&table_mu);
        note("cannot-open-log", name);
        return -1;
    }
    struct tracked *t = &files[free_slot];
    strcpy(t->name, name);
    t->log_fd = fd;
    t->log_len = (int64_t)syscall(SYS_lseek, fd, 0, SEEK_END);
    t->syncing = 0;
    pthread_mutex_init(&t->mu, NULL);
    t->used = 1;
    pthread_mutex_unlock(&table_mu);
    return free_slot;
}

static struct tracked *for_fd(int fd) {
    if (fd < 0 || fd >= MAX_FDS)
        return NULL;
    int idx = __atomic_load_n(&fd_index[fd], __ATOMIC_ACQUIRE);
    return idx > 0 ? &files[idx - 1] : NULL;
}

/* Append one entry (caller holds t->mu). */
static void append_entry(struct tracked *t, uint32_t kind, int64_t offset, int64_t prev_size, const void *data,
                         size_t length) {
    struct pl_entry e = {PL_MAGIC, kind, offset, prev_size, (uint64_t)length};
    struct iovec iov[2] = {{&e, sizeof(e)}, {(void *)data, length}};
    size_t want = sizeof(e) + length;
    long n = syscall(SYS_writev, t->log_fd, iov, length ? 2 : 1);
    if (n != (long)want)
        note("short-log-write", t->name[0] ? t->name : "@dir");
    if (n > 0)
        t->log_len += n;
}

static int64_t file_size(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* Save what [offset, offset + length) holds now and the current size (caller holds t->mu). */
static void save_preimage(struct tracked *t, int fd, int64_t offset, uint64_t length) {
    char buf[CHUNK];
    int64_t size = file_size(fd);
    if (size < 0) {
        note("cannot-stat", t->name);
        return;
    }
    if (offset >= size || length == 0) {
        append_entry(t, K_WRITE, offset, size, NULL, 0);
        return;
    }
    uint64_t avail = (uint64_t)(size - offset) < length ? (uint64_t)(size - offset) : length;
    uint64_t done = 0;
    while (done < avail) {
        size_t want = avail - done < CHUNK ? (size_t)(avail - done) : CHUNK;
        long got = syscall(SYS_pread64, fd, buf, want, (off_t)(offset + (int64_t)done));
        if (got <= 0) {
            note("cannot-read-preimage", t->name);
            return;
        }
        append_entry(t, K_WRITE, offset + (int64_t)done, size, buf, (size_t)got);
        done += (uint64_t)got;
    }
}

static void on_open(int fd, const char *name, int created) {
    if (fd < 0)
        return;
    if (created && name[0] != '\0') {
        int d = tracked_index("");
        if (d >= 0) {
            pthread_mutex_lock(&files[d].mu);
            append_entry(&files[d], K_CREATE, 0, 0, name, strlen(name));
            pthread_mutex_unlock(&files[d].mu);
        }
    }
    int idx = tracked_index(name);
    if (idx >= 0 && fd < MAX_FDS)
        __atomic_store_n(&fd_index[fd], idx + 1, __ATOMIC_RELEASE);
}

static int do_open(int dirfd, const char *path, int flags, mode_t mode) {
    char name[NAME_MAX + 1];
    if (classify(dirfd, path, name) != 0)
        return (int)syscall(SYS_openat, dirfd, path, flags, mode);
    int existed = 1;
    if (flags & O_CREAT)
        existed = syscall(SYS_faccessat, dirfd, path, F_OK) == 0;
    if ((flags & O_TRUNC) && existed)
        note("o-trunc-not-modelled", name);
    int fd = (int)syscall(SYS_openat, dirfd, path, flags, mode);
    on_open(fd, name, fd >= 0 && !existed);
    return fd;
}

static mode_t mode_arg(int flags, va_list ap) {
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return do_open(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return do_open(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return do_open(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return do_open(dirfd, path, flags, mode);
}

int __open_2(const char *path, int flags) { return do_open(AT_FDCWD, path, flags, 0); }
int __open64_2(const char *path, int flags) { return do_open(AT_FDCWD, path, flags, 0); }
int __openat_2(int dirfd, const char *path, int flags) { return do_open(dirfd, path, flags, 0); }
int __openat64_2(int dirfd, const char *path, int flags) { return do_open(dirfd, path, flags, 0); }
int creat(const char *path, mode_t mode) { return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); }
int creat64(const char *path, mode_t mode) { return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); }

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    struct tracked *t = for_fd(fd);
    if (t == NULL)
        return syscall(SYS_pwrite64, fd, buf, count, offset);
    pthread_mutex_lock(&t->mu);
    save_preimage(t, fd, offset, count);
    ssize_t n = syscall(SYS_pwrite64, fd, buf, count, offset);
    pthread_mutex_unlock(&t->mu);
    return n;
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset) { return pwrite(fd, buf, count, offset); }

static int64_t write_position(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_APPEND))
        return file_size(fd);
    return (int64_t)syscall(SYS_lseek, fd, 0, SEEK_CUR);
}

ssize_t write(int fd, const void *buf, size_t count) {
    struct tracked *t = for_fd(fd);
    if (t == NULL)
        return syscall(SYS_write, fd, buf, count);
    pthread_mutex_lock(&t->mu);
    save_preimage(t, fd, write_position(fd), count);
    ssize_t n = syscall(SYS_write, fd, buf, count);
    pthread_mutex_unlock(&t->mu);
    return n;
}

static uint64_t iov_total(const struct iovec *iov, int iovcnt) {
    uint64_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    return total;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    struct tracked *t = for_fd(fd);
    if (t == NULL)
        return syscall(SYS_writev, fd, iov, iovcnt);
    pthread_mutex_lock(&t->mu);
    save_preimage(t, fd, write_position(fd), iov_total(iov, iovcnt));
    ssize_t n = syscall(SYS_writev, fd, iov, iovcnt);
    pthread_mutex_unlock(&t->mu);
    return n;
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    struct tracked *t = for_fd(fd);
    /* the kernel takes the offset as two longs (low, high); on 64-bit the high half is 0 */
    if (t == NULL)
        return syscall(SYS_pwritev, fd, iov, iovcnt, (long)offset, 0L);
    pthread_mutex_lock(&t->mu);
    save_preimage(t, fd, offset, iov_total(iov, iovcnt));
    ssize_t n = syscall(SYS_pwritev, fd, iov, iovcnt, (long)offset, 0L);
    pthread_mutex_unlock(&t->mu);
    return n;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    return pwritev(fd, iov, iovcnt, offset);
}

int ftruncate(int fd, off_t length) {
    struct tracked *t = for_fd(fd);
    if (t == NULL)
        return real_ftruncate(fd, length);
    pthread_mutex_lock(&t->mu);
    int64_t size = file_size(fd);
    if (size > (int64_t)length)
        save_preimage(t, fd, (int64_t)length, (uint64_t)(size - (int64_t)length));
    else
        append_entry(t, K_WRITE, (int64_t)length, size, NULL, 0);
    int rc = real_ftruncate(fd, length);
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int ftruncate64(int fd, off_t length) { return ftruncate(fd, length); }

static void log_size_only(struct tracked *t, int fd) {
    append_entry(t, K_WRITE, file_size(fd), file_size(fd), NULL, 0);
}

int fallocate(int fd, int mode, off_t offset, off_t len) {
    struct tracked *t = for_fd(fd);
    if (t == NULL)
        return real_fallocate(fd, mode, offset, len);
    pthread_mutex_lock(&t->mu);
    if (mode & ~FALLOC_FL_KEEP_SIZE)
        save_preimage(t, fd, offset, (uint64_t)len); /* punch/zero/collapse ranges change bytes */
    else
        log_size_only(t, fd);
    int rc = real_fallocate(fd, mode, offset, len);
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int fallocate64(int fd, int mode, off_t offset, off_t len) { return fallocate(fd, mode, offset, len); }

int posix_fallocate(int fd, off_t offset, off_t len) {
    struct tracked *t = for_fd(fd);
    if (t == NULL)
        return real_posix_fallocate(fd, offset, len);
    pthread_mutex_lock(&t->mu);
    log_size_only(t, fd);
    int rc = real_posix_fallocate(fd, offset, len);
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int posix_fallocate64(int fd, off_t offset, off_t len) { return posix_fallocate(fd, offset, len); }

/* After a successful sync, everything logged before it started is durable: drop it. Entries logged while the
 * sync ran may not be covered, so then only a sync mark is written. */
static int do_sync(int fd, int (*real)(int)) {
    struct tracked *t = for_fd(fd);
    if (t == NULL)
        return real(fd);
    pthread_mutex_lock(&t->mu);
    int64_t covered = t->log_len;
    t->syncing++;
    pthread_mutex_unlock(&t->mu);
    int rc = real(fd);
    int saved = errno;
    pthread_mutex_lock(&t->mu);
    t->syncing--;
    if (rc == 0) {
        if (t->syncing == 0 && t->log_len == covered) {
            if (syscall(SYS_ftruncate, t->log_fd, 0) == 0)
                t->log_len = 0;
        } else {
            append_entry(t, K_SYNC, covered, 0, NULL, 0);
        }
    }
    pthread_mutex_unlock(&t->mu);
    errno = saved;
    return rc;
}

int fsync(int fd) { return do_sync(fd, real_fsync); }
int fdatasync(int fd) { return do_sync(fd, real_fdatasync); }

int close(int fd) {
    if (fd >= 0 && fd < MAX_FDS)
        __atomic_store_n(&fd_index[fd], 0, __ATOMIC_RELEASE);
    return real_close(fd);
}

static void on_unlink(const char *name) {
    int d = tracked_index("");
    if (d >= 0) {
        pthread_mutex_lock(&files[d].mu);
        append_entry(&files[d], K_UNLINK, 0, 0, name, strlen(name));
        pthread_mutex_unlock(&files[d].mu);
    }
    int idx = tracked_index(name);
    if (idx >= 0) { /* the entries so far belong to an inode that is gone */
        pthread_mutex_lock(&files[idx].mu);
        append_entry(&files[idx], K_UNLINK, 0, 0, name, strlen(name));
        pthread_mutex_unlock(&files[idx].mu);
    }
}

int unlink(const char *path) {
    char name[NAME_MAX + 1];
    int tracked = classify(AT_FDCWD, path, name) == 0 && name[0] != '\0';
    int rc = real_unlink(path);
    if (rc == 0 && tracked)
        on_unlink(name);
    return rc;
}

int unlinkat(int dirfd, const char *path, int flags) {
    char name[NAME_MAX + 1];
    int tracked = classify(dirfd, path, name) == 0 && name[0] != '\0';
    int rc = real_unlinkat(dirfd, path, flags);
    if (rc == 0 && tracked)
        on_unlink(name);
    return rc;
}

int rename(const char *from, const char *to) {
    char name[NAME_MAX + 1];
    if (classify(AT_FDCWD, from, name) == 0 || classify(AT_FDCWD, to, name) == 0)
        note("rename-not-modelled", name);
    return real_rename(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to) {
    char name[NAME_MAX + 1];
    if (classify(fromfd, from, name) == 0 || classify(tofd, to, name) == 0)
        note("rename-not-modelled", name);
    return real_renameat(fromfd, from, tofd, to);
}

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
    struct tracked *t = for_fd(fd);
    if (t != NULL && (prot & PROT_WRITE) && (flags & MAP_SHARED))
        note("shared-writable-mmap-not-modelled", t->name);
    return real_mmap(addr, length, prot, flags, fd, offset);
}

void *mmap64(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
    return mmap(addr, length, prot, flags, fd, offset);
}

int dup(int fd) {
    if (for_fd(fd) != NULL)
        note("dup-not-modelled", for_fd(fd)->name);
    return (int)syscall(SYS_dup, fd);
}
