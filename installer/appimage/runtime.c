// Penser's AppImage runtime: the small program at the front of Penser-<version>-x86_64.AppImage.
//
// The file is this static ELF executable followed by a squashfs image of the AppDir (the AppImage "type 2"
// layout: the bytes 'A' 'I' 0x02 at offset 8 of the ELF header, the filesystem starting where the ELF ends).
// Run it and it mounts the image read-only through FUSE in a temporary folder and starts AppRun from there;
// with --appimage-extract-and-run it unpacks the image to a temporary folder instead (no FUSE needed), and
// --appimage-extract writes it to ./squashfs-root. Reading squashfs is Debian's libsquashfuse (its low-level
// FUSE operations too), talking to the kernel is libfuse3; both linked in statically, so the AppImage needs
// nothing from the system to open itself. See docs/packaging.md for what it supports and what it leaves out.
#define _GNU_SOURCE

#include <squashfuse/ll.h>
#include <squashfuse/squashfuse.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUNTIME_VERSION "penser-runtime 1"

static const char usage[] =
    "This is an AppImage: a program with everything it needs packed into one file.\n"
    "Run it to start the program. Options for the file itself (the first argument):\n"
    "  --appimage-help               this text\n"
    "  --appimage-version            the runtime's version\n"
    "  --appimage-offset             the byte offset of the squashfs image in this file\n"
    "  --appimage-extract [PATTERN]  unpack the image to ./squashfs-root (only paths matching the shell\n"
    "                                PATTERN, e.g. 'usr/share/icons/*', when given)\n"
    "  --appimage-extract-and-run    unpack to a temporary folder, run from there, remove it afterwards:\n"
    "                                for systems without FUSE (also: APPIMAGE_EXTRACT_AND_RUN=1)\n"
    "  --appimage-mount              mount the image, print where, and wait until interrupted\n"
    "Every other argument goes to the program.\n";

// ---------------------------------------------------------------------------------------------------------
// Where the image starts: the end of the ELF file is the end of its section header table, which the linker
// places last (that is how the type 2 format defines the offset too).
static long image_offset(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  Elf64_Ehdr eh;
  ssize_t n = pread(fd, &eh, sizeof eh, 0);
  struct stat st;
  int ok = n == (ssize_t)sizeof eh && fstat(fd, &st) == 0;
  close(fd);
  if (!ok || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) return -1;
  unsigned long long end = (unsigned long long)eh.e_shoff + (unsigned long long)eh.e_shentsize * eh.e_shnum;
  if (end == 0 || end >= (unsigned long long)st.st_size) return -1;  // nothing appended
  return (long)end;
}

// ---------------------------------------------------------------------------------------------------------
// Extraction, with libsquashfuse's reader (no FUSE involved).

static int write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int extract_file(sqfs* fs, sqfs_inode* inode, const char* dest, mode_t perm) {
  int fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  static char buf[1 << 17];
  sqfs_off_t size = (sqfs_off_t)inode->xtra.reg.file_size;
  int rc = 0;
  for (sqfs_off_t pos = 0; pos < size && rc == 0;) {
    sqfs_off_t chunk = size - pos < (sqfs_off_t)sizeof buf ? size - pos : (sqfs_off_t)sizeof buf;
    if (sqfs_read_range(fs, inode, pos, &chunk, buf) != SQFS_OK || chunk <= 0) rc = -1;
    else if (write_all(fd, buf, (size_t)chunk) != 0) rc = -1;
    pos += chunk;
  }
  // Permissions last, so that a read-only file in the image could still be written.
  if (fchmod(fd, perm) != 0) rc = -1;
  if (close(fd) != 0) rc = -1;
  return rc;
}

static int mkdirs(char* path) {  // mkdir -p; path is modified temporarily
  for (char* p = path + 1; *p; ++p) {
    if (*p != '/') continue;
    *p = '\0';
    int r = mkdir(path, 0755);
    *p = '/';
    if (r != 0 && errno != EEXIST) return -1;
  }
  if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
  return 0;
}

// Unpacks every entry (or those whose path matches `pattern`) under `dest`. Returns 0, or -1 with a message.
static int extract(const char* image, long offset, const char* dest, const char* pattern) {
  sqfs fs;
  if (sqfs_open_image(&fs, image, (size_t)offset) != SQFS_OK) {
    fprintf(stderr, "%s: the squashfs image at offset %ld cannot be read: the file is damaged or incomplete "
            "(download it again)\n", image, offset);
    return -1;
  }
  char root[PATH_MAX];
  snprintf(root, sizeof root, "%s", dest);
  if (mkdirs(root) != 0) {
    fprintf(stderr, "cannot create %s: %s\n", dest, strerror(errno));
    sqfs_destroy(&fs);
    return -1;
  }
  sqfs_traverse trv;
  if (sqfs_traverse_open(&trv, &fs, sqfs_inode_root(&fs)) != SQFS_OK) {
    fprintf(stderr, "%s: cannot list the image\n", image);
    sqfs_destroy(&fs);
    return -1;
  }
  int rc = 0;
  sqfs_err err = SQFS_OK;
  while (rc == 0 && sqfs_traverse_next(&trv, &err)) {
    if (trv.dir_end) continue;
    if (pattern && fnmatch(pattern, trv.path, 0) != 0) continue;
    sqfs_inode inode;
    if (sqfs_inode_get(&fs, &inode, sqfs_dentry_inode(&trv.entry)) != SQFS_OK) {
      fprintf(stderr, "%s: damaged inode for %s\n", image, trv.path);
      rc = -1;
      break;
    }
    char out[PATH_MAX];
    if (snprintf(out, sizeof out, "%s/%s", dest, trv.path) >= (int)sizeof out) {
      fprintf(stderr, "path too long: %s\n", trv.path);
      rc = -1;
      break;
    }
    // A pattern can select a file without its folder: create the parents first.
    char* slash = strrchr(out, '/');
    *slash = '\0';
    if (mkdirs(out) != 0) rc = -1;
    *slash = '/';
    mode_t perm = inode.base.mode & 07777;
    switch (inode.base.inode_type) {
      case SQUASHFS_DIR_TYPE:
      case SQUASHFS_LDIR_TYPE:
        // Owner rwx while unpacking; a read-only folder in the image would otherwise refuse its children.
        if (rc == 0 && mkdir(out, perm | 0700) != 0 && errno != EEXIST) rc = -1;
        break;
      case SQUASHFS_REG_TYPE:
      case SQUASHFS_LREG_TYPE:
        unlink(out);
        if (rc == 0) rc = extract_file(&fs, &inode, out, perm);
        break;
      case SQUASHFS_SYMLINK_TYPE:
      case SQUASHFS_LSYMLINK_TYPE: {
        char target[PATH_MAX];
        size_t size = sizeof target;
        if (rc == 0 && sqfs_readlink(&fs, &inode, target, &size) != SQFS_OK) rc = -1;
        unlink(out);
        if (rc == 0 && symlink(target, out) != 0) rc = -1;
        break;
      }
      default:  // devices, fifos and sockets have no place in an AppDir
        fprintf(stderr, "skipping %s: not a file, folder or link\n", trv.path);
    }
    if (rc != 0) fprintf(stderr, "cannot extract %s: %s\n", out, strerror(errno));
  }
  if (rc == 0 && err != SQFS_OK) {
    fprintf(stderr, "%s: the image's directory tree is damaged\n", image);
    rc = -1;
  }
  sqfs_traverse_close(&trv);
  sqfs_destroy(&fs);
  return rc;
}

static int remove_entry(const char* path, const struct stat* st, int type, struct FTW* ftw) {
  (void)st, (void)type, (void)ftw;
  remove(path);
  return 0;
}

static void remove_tree(const char* path) { nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

// ---------------------------------------------------------------------------------------------------------
// Starting AppRun.

// The variables the type 2 format promises the program: APPIMAGE (this file, absolute), APPDIR (where the
// AppDir is now), ARGV0 (how this file was called), OWD (the folder it was called from).
static void set_environment(const char* appimage, const char* appdir, const char* argv0) {
  setenv("APPIMAGE", appimage, 1);
  setenv("APPDIR", appdir, 1);
  setenv("ARGV0", argv0, 1);
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd)) setenv("OWD", cwd, 1);
}

static void exec_apprun(const char* appdir, int argc, char** argv) {
  char apprun[PATH_MAX];
  snprintf(apprun, sizeof apprun, "%s/AppRun", appdir);
  char** args = calloc((size_t)argc + 1, sizeof *args);
  if (!args) _exit(127);
  args[0] = apprun;
  for (int i = 1; i < argc; ++i) args[i] = argv[i];
  execv(apprun, args);
  fprintf(stderr, "cannot start %s: %s\n", apprun, strerror(errno));
  _exit(127);
}

static int extract_and_run(const char* self, long offset, int argc, char** argv, const char* argv0) {
  const char* tmp = getenv("TMPDIR");
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s/appimage_extracted_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    fprintf(stderr, "cannot create a folder in %s: %s\n", tmp && *tmp ? tmp : "/tmp", strerror(errno));
    return 1;
  }
  if (extract(self, offset, dir, NULL) != 0) {
    remove_tree(dir);
    return 1;
  }
  // A child runs the program so that this process can remove the folder when it ends.
  pid_t pid = fork();
  if (pid < 0) {
    remove_tree(dir);
    return 1;
  }
  if (pid == 0) {
    set_environment(self, dir, argv0);
    exec_apprun(dir, argc, argv);
  }
  // Ctrl+C reaches the program (same process group); this process must outlive it to clean up.
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  remove_tree(dir);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// ---------------------------------------------------------------------------------------------------------
// The FUSE server. It runs in a child process; the parent becomes the program. It stops when every process
// holding the write end of `keepalive` has exited (the program and anything it started), then unmounts.

static int serve(const char* self, long offset, const char* mountpoint, int ready_fd, int keepalive_fd) {
  sqfs_ll* ll = sqfs_ll_open(self, (size_t)offset);
  if (!ll) return 1;  // sqfs_ll_open printed why

  struct fuse_lowlevel_ops ops;
  memset(&ops, 0, sizeof ops);
  ops.getattr = sqfs_ll_op_getattr;
  ops.opendir = sqfs_ll_op_opendir;
  ops.releasedir = sqfs_ll_op_releasedir;
  ops.readdir = sqfs_ll_op_readdir;
  ops.lookup = sqfs_ll_op_lookup;
  ops.open = sqfs_ll_op_open;
  ops.create = sqfs_ll_op_create;
  ops.release = sqfs_ll_op_release;
  ops.read = sqfs_ll_op_read;
  ops.readlink = sqfs_ll_op_readlink;
  ops.listxattr = sqfs_ll_op_listxattr;
  ops.getxattr = sqfs_ll_op_getxattr;
  ops.forget = sqfs_ll_op_forget;
  ops.statfs = stfs_ll_op_statfs;

  char* fuse_argv[] = {(char*)"penser-appimage", (char*)"-o", (char*)"ro,nodev,nosuid", NULL};
  struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
  struct fuse_session* se = fuse_session_new(&args, &ops, sizeof ops, ll);
  if (!se || fuse_session_mount(se, mountpoint) != 0) {
    if (se) fuse_session_destroy(se);
    sqfs_ll_destroy(ll);
    free(ll);
    return 1;
  }
  char ok = 1;
  (void)!write(ready_fd, &ok, 1);
  close(ready_fd);

  // One thread: wait for a FUSE request or the end of the program, whichever comes first.
  struct fuse_buf buf;
  memset(&buf, 0, sizeof buf);
  struct pollfd fds[2] = {{fuse_session_fd(se), POLLIN, 0}, {keepalive_fd, POLLIN, 0}};
  while (!fuse_session_exited(se)) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;  // EOF: the program and its children are gone
    if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) break;
    if (!(fds[0].revents & POLLIN)) continue;
    int n = fuse_session_receive_buf(se, &buf);
    if (n == -EINTR || n == -EAGAIN) continue;
    if (n <= 0) break;
    fuse_session_process_buf(se, &buf);
  }
  free(buf.mem);
  fuse_session_unmount(se);
  fuse_session_destroy(se);
  sqfs_ll_destroy(ll);
  free(ll);
  rmdir(mountpoint);
  return 0;
}

// Mounts the image; on success returns 0 with `mountpoint` filled, the server running in a child, and the
// write end of the keep-alive pipe left open (without close-on-exec) in this process for the program.
static int mount_image(const char* self, long offset, char* mountpoint, size_t size) {
  const char* tmp = getenv("TMPDIR");
  const char* name = strrchr(self, '/') ? strrchr(self, '/') + 1 : self;
  char base[64];
  snprintf(base, sizeof base, "%.6s", name);  // /tmp/.mount_PenserXXXXXX, as other AppImages do
  snprintf(mountpoint, size, "%s/.mount_%sXXXXXX", tmp && *tmp ? tmp : "/tmp", base);
  if (!mkdtemp(mountpoint)) {
    fprintf(stderr, "cannot create a mount point: %s\n", strerror(errno));
    return -1;
  }
  int ready[2], keepalive[2];
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe(keepalive) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(ready[0]);
    close(keepalive[1]);
    // The terminal's signals are for the program; the server goes when the program goes.
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTSTP, SIG_IGN);
    int rc = serve(self, offset, mountpoint, ready[1], keepalive[0]);
    if (rc != 0) rmdir(mountpoint);
    _exit(rc);
  }
  close(ready[1]);
  close(keepalive[0]);
  char ok = 0;
  ssize_t n;
  while ((n = read(ready[0], &ok, 1)) < 0 && errno == EINTR) {
  }
  close(ready[0]);
  if (n != 1) {  // the server exited without mounting; it printed why
    waitpid(pid, NULL, 0);
    close(keepalive[1]);
    fprintf(stderr,
            "Cannot mount the AppImage with FUSE (is fuse3 installed, and /dev/fuse usable?).\n"
            "Run it without FUSE:  %s --appimage-extract-and-run  (or set APPIMAGE_EXTRACT_AND_RUN=1),\n"
            "or unpack it once:    %s --appimage-extract\n",
            self, self);
    return -1;
  }
  return 0;
}

int main(int argc, char** argv) {
  char self[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) {
    fprintf(stderr, "cannot find this AppImage's own file (/proc/self/exe): is /proc mounted?\n");
    return 1;
  }
  self[len] = '\0';
  // When the runtime itself is run through a link or a loader, APPIMAGE names the real file.
  const char* env_image = getenv("TARGET_APPIMAGE");
  const char* image = env_image && *env_image ? env_image : self;
  long offset = image_offset(image);
  const char* arg = argc > 1 ? argv[1] : "";

  if (strcmp(arg, "--appimage-help") == 0) {
    fputs(usage, stdout);
    return 0;
  }
  if (strcmp(arg, "--appimage-version") == 0) {
    puts(RUNTIME_VERSION);
    return 0;
  }
  if (offset < 0) {
    fprintf(stderr, "%s: no squashfs image after the ELF runtime: this is not a complete AppImage\n", image);
    return 1;
  }
  if (strcmp(arg, "--appimage-offset") == 0) {
    printf("%ld\n", offset);
    return 0;
  }
  if (strcmp(arg, "--appimage-extract") == 0) {
    if (extract(image, offset, "squashfs-root", argc > 2 ? argv[2] : NULL) != 0) return 1;
    return 0;
  }
  const char* env_extract = getenv("APPIMAGE_EXTRACT_AND_RUN");
  if (strcmp(arg, "--appimage-extract-and-run") == 0) {
    // The option is the runtime's, not the program's.
    argv[1] = argv[0];
    return extract_and_run(image, offset, argc - 1, argv + 1, argv[0]);
  }
  if (env_extract && strcmp(env_extract, "1") == 0) return extract_and_run(image, offset, argc, argv, argv[0]);
  if (strncmp(arg, "--appimage-", 11) == 0 && strcmp(arg, "--appimage-mount") != 0) {
    fprintf(stderr, "unknown option %s\n%s", arg, usage);
    return 1;
  }

  // Check the image here: a damaged file must not be reported as a FUSE problem by the server.
  sqfs fs;
  if (sqfs_open_image(&fs, image, (size_t)offset) != SQFS_OK) {
    fprintf(stderr, "%s: the squashfs image at offset %ld cannot be read: the file is damaged or incomplete "
            "(download it again)\n", image, offset);
    return 1;
  }
  sqfs_destroy(&fs);

  char mountpoint[PATH_MAX];
  if (mount_image(image, offset, mountpoint, sizeof mountpoint) != 0) return 1;
  if (strcmp(arg, "--appimage-mount") == 0) {
    printf("%s\n", mountpoint);
    fflush(stdout);
    pause();  // the server unmounts when this process ends (Ctrl+C)
    return 0;
  }
  set_environment(image, mountpoint, argv[0]);
  exec_apprun(mountpoint, argc, argv);
  return 127;
}
