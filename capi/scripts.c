// Script directories the host never freed are removed when the process exits
// (or the library is unloaded), best effort. This runs from a destructor, so
// it must not enter Go: the directories are tracked here, in C, and removed
// with plain libc calls.
//
// The destructor also runs in every forked child of the host that calls
// exit() (a Python os.fork() child ending with sys.exit, say). Such a child
// shares the parent's directories but does not own them, and its copy of
// scripts_mu may be held forever by a host thread that does not exist in it.
// So the destructor acts only in the process that tracked the directories,
// and never blocks on the mutex: when another thread holds it at exit, the
// clean-up is skipped (freeing the task still removes its directory).
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"

struct script_dir {
    struct script_dir *next;
    char path[];
};

static pthread_mutex_t scripts_mu = PTHREAD_MUTEX_INITIALIZER;
static struct script_dir *scripts;
// The process whose directories these are; set under scripts_mu on the first
// track. 0 while nothing was ever tracked.
static pid_t scripts_owner;

void soltic_script_track(const char *path, size_t len) {
    struct script_dir *d = malloc(sizeof *d + len + 1);
    if (d == NULL)
        return; // only the exit-time clean-up is lost; freeing the task still removes it
    memcpy(d->path, path, len);
    d->path[len] = '\0';
    pthread_mutex_lock(&scripts_mu);
    if (scripts_owner == 0)
        __atomic_store_n(&scripts_owner, getpid(), __ATOMIC_RELEASE);
    d->next = scripts;
    scripts = d;
    pthread_mutex_unlock(&scripts_mu);
}

void soltic_script_untrack(const char *path, size_t len) {
    pthread_mutex_lock(&scripts_mu);
    for (struct script_dir **p = &scripts; *p != NULL; p = &(*p)->next) {
        if (strlen((*p)->path) == len && memcmp((*p)->path, path, len) == 0) {
            struct script_dir *d = *p;
            *p = d->next;
            free(d);
            break;
        }
    }
    pthread_mutex_unlock(&scripts_mu);
}

// remove_dir deletes the files of one script directory, then the directory.
static void remove_dir(const char *path) {
    DIR *dir = opendir(path);
    if (dir != NULL) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlinkat(dirfd(dir), e->d_name, 0);
        closedir(dir);
    }
    rmdir(path);
}

__attribute__((destructor)) static void solti_remove_scripts(void) {
    // The owner is read before the lock: in a forked child the lock may be
    // held for ever, and the child must not touch the directories anyway.
    // A stale read is harmless: it can only be 0 (nothing tracked) or a pid.
    pid_t owner = __atomic_load_n(&scripts_owner, __ATOMIC_ACQUIRE);
    if (owner == 0 || owner != getpid())
        return;
    if (pthread_mutex_trylock(&scripts_mu) != 0)
        return; // a host thread is building or freeing a task right now
    while (scripts != NULL) {
        struct script_dir *d = scripts;
        scripts = d->next;
        remove_dir(d->path);
        free(d);
    }
    pthread_mutex_unlock(&scripts_mu);
}
