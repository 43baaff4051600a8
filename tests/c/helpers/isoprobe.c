/*
 * isoprobe WHAT...: prints what the child sees of its isolation, one
 * "key value" line per item, so a test can check it from inside:
 *   umask        "umask 0027"
 *   session      "sid N", "pid N", "pgid N"
 *   ns           "ns NAME LINK" for mnt, net, ipc, uts, cgroup
 *   fd=N         "fd N read TEXT" (one line read from N), or "fd N closed"
 *   fds          "open N N N": every open descriptor
 *   hostcontrol  "ptrace ERRNO", "mount ERRNO" (0 for success), then
 *                "work ok" once a file was written and read back
 *   cgmkdir=MNT  "cgroup PATH" (its own v2 cgroup), "cgmkdir ERRNO": mkdir of
 *                a child of it, under the v2 mount MNT
 *   argv0        "argv0 TEXT"
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <unistd.h>

static void print_fd(int fd) {
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0) {
        printf("fd %d closed\n", fd);
        return;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    printf("fd %d read %s\n", fd, buf);
}

static void print_fds(void) {
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *e;
    int fds[256], n = 0;
    if (dir == NULL) {
        printf("open ?\n");
        return;
    }
    while ((e = readdir(dir)) != NULL && n < 256)
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(dir)) fds[n++] = atoi(e->d_name);
    closedir(dir);
    /* readdir gives them in order for /proc/self/fd; sort anyway. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
            int t = fds[j];
            fds[j] = fds[j - 1];
            fds[j - 1] = t;
        }
    printf("open");
    for (int i = 0; i < n; i++) printf(" %d", fds[i]);
    printf("\n");
}

static void host_control(void) {
    char path[] = "/tmp/isoprobe-XXXXXX", back[8] = {0};
    errno = 0;
    long r = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    printf("ptrace %d\n", r < 0 ? errno : 0);
    errno = 0;
    r = mount("none", "/nonexistent-isoprobe", "tmpfs", 0, NULL);
    printf("mount %d\n", r < 0 ? errno : 0);
    int fd = mkstemp(path);
    if (fd >= 0 && write(fd, "ok", 2) == 2 && pread(fd, back, 2, 0) == 2 && strcmp(back, "ok") == 0)
        printf("work ok\n");
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
}

static void cgroup_mkdir(const char *mount) {
    char line[4096], dir[4200];
    FILE *f = fopen("/proc/self/cgroup", "r");
    int err = ENOENT;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "0::", 3) != 0) continue;
        line[strcspn(line, "\n")] = '\0';
        printf("cgroup %s\n", line + 3);
        snprintf(dir, sizeof dir, "%s%s/isoprobe-sub", mount, line + 3);
        err = mkdir(dir, 0755) == 0 ? 0 : errno;
        if (err == 0) rmdir(dir);
    }
    if (f != NULL) fclose(f);
    printf("cgmkdir %d\n", err);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "umask") == 0) {
            mode_t m = umask(0);
            printf("umask %04o\n", (unsigned)m);
        } else if (strcmp(a, "session") == 0) {
            printf("sid %d\npid %d\npgid %d\n", (int)getsid(0), (int)getpid(), (int)getpgid(0));
        } else if (strcmp(a, "ns") == 0) {
            const char *names[] = {"mnt", "net", "ipc", "uts", "cgroup"};
            for (int j = 0; j < 5; j++) {
                char path[64], link[128] = "?";
                snprintf(path, sizeof path, "/proc/self/ns/%s", names[j]);
                ssize_t n = readlink(path, link, sizeof link - 1);
                if (n >= 0) link[n] = '\0';
                printf("ns %s %s\n", names[j], link);
            }
        } else if (strncmp(a, "fd=", 3) == 0) {
            print_fd(atoi(a + 3));
        } else if (strcmp(a, "fds") == 0) {
            print_fds();
        } else if (strcmp(a, "hostcontrol") == 0) {
            host_control();
        } else if (strncmp(a, "cgmkdir=", 8) == 0) {
            cgroup_mkdir(a + 8);
        } else if (strcmp(a, "argv0") == 0) {
            printf("argv0 %s\n", argv[0]);
        } else {
            fprintf(stderr, "isoprobe: unknown probe %s\n", a);
            return 2;
        }
    }
    return 0;
}
