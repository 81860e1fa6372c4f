/*
 * connect_list.c: `syncstream connect --list`, the serial ports of this
 * machine (as tio --list): each tty that sysfs ties to a device, with its
 * driver and the stable names udev gives it under /dev/serial/by-id/, which
 * stay the same whichever ttyUSBn the adapter gets.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syncstream.h>

#include "connect.h"
#include "tool.h"

/* The contents of a small sysfs file, without its newline; "" if none. */
static void read_small(const char *path, char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (fgets(buf, (int)size, f))
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strverscmp((*a)->d_name, (*b)->d_name);
}

/* The /dev/serial/by-id/ names that resolve to the device NAME. */
static void print_ids(const char *root, const char *name)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/dev/serial/by-id", root);
    struct dirent **ids;
    int n = scandir(dir, &ids, NULL, by_name);
    bool any = false;
    for (int i = 0; i < n; i++) {
        char link[PATH_MAX + 256], target[PATH_MAX];
        snprintf(link, sizeof(link), "%s/%s", dir, ids[i]->d_name);
        ssize_t len = readlink(link, target, sizeof(target) - 1);
        if (len > 0) {
            target[len] = '\0';
            const char *base = strrchr(target, '/');
            if (strcmp(base ? base + 1 : target, name) == 0) {
                printf("  /dev/serial/by-id/%s", ids[i]->d_name);
                any = true;
            }
        }
        free(ids[i]);
    }
    if (n >= 0)
        free(ids);
    if (!any)
        printf("  -");
}

int connect_list(void)
{
    /* SYNCSTREAM_TEST_ROOT: a directory standing in for / (tests only) */
    const char *root = getenv("SYNCSTREAM_TEST_ROOT");
    if (!root)
        root = "";
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/sys/class/tty", root);
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, by_name);
    if (n < 0)
        return tool_fail("connect: --list: cannot read %s: %s", dir, ss_strerror(-errno));
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        char path[PATH_MAX + 512], target[PATH_MAX], type[32];
        snprintf(path, sizeof(path), "%s/%s/device/driver", dir, name);
        ssize_t len = name[0] == '.' ? -1 : readlink(path, target, sizeof(target) - 1);
        /* a UART the kernel probed and found no hardware behind: type 0 */
        snprintf(path, sizeof(path), "%s/%s/type", dir, name);
        read_small(path, type, sizeof(type));
        if (len > 0 && strcmp(type, "0") != 0) {
            target[len] = '\0';
            const char *driver = strrchr(target, '/');
            printf("/dev/%s  %s", name, driver ? driver + 1 : target);
            print_ids(root, name);
            putchar('\n');
        }
        free(ents[i]);
    }
    free(ents);
    return tool_finish_output(TOOL_EXIT_OK);
}
