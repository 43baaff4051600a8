/* fdlister: prints the number of each open file descriptor, one per line. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) {
        perror("fdlister: /proc/self/fd");
        return 1;
    }
    int own = dirfd(dir);
    int fds[1024], n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL && n < 1024) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd != own) fds[n++] = fd;
    }
    closedir(dir);
    for (int i = 0; i < n; i++) printf("%d\n", fds[i]);
    return 0;
}
