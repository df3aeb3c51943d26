// SPDX-License-Identifier: GPL-2.0
/*
 * ublk-bpf in the server: load a struct ublk_bpf_ops object (--bpf), give
 * its ops the device's id (or --bpf-id), register them, and keep the map a
 * program shares with the server (srv_written, of the mixed target)
 * up to date, or the chunks it maps (srv_mapped, of the handback target).
 *
 * An object is FILE, or NAME for ublk_NAME.bpf.o next to this program.  It
 * has exactly one struct_ops map of type ublk_bpf_ops, and at most one of
 * type bpf_aio_complete_ops (bpf aio: the loop targets), each with the u32
 * id first; both get the same id, and the BPF parameter names the files
 * of the target for the aios.  If it has an array map named srv_written, the server
 * sizes it to one entry per UBLK_BPF_CHUNK of the device, marks the chunks
 * where the backing files have data before the device starts, and marks
 * every chunk a write, write-zeroes or discard it served before it commits
 * it: what the map does not mark reads as zeroes.  An array map named
 * srv_mapped is sized and marked at start the same way; then a write,
 * write-zeroes or discard that BPF redirected is not served: the server
 * maps its chunks and hands it back (commits -EAGAIN) for BPF to do.
 *
 * A program of a target over several files (stripe, concat: bpf aio on
 * each) has a read-only global `layout` (struct ublk_bpf_layout) whose
 * initial value names its target: the server refuses it for a device of
 * another target, and writes the device's layout (files, chunk, file
 * ends) in it before loading.  An object with bpf aio and no layout
 * treats the device as file 0 (loop): refused for stripe and concat.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "ublk.h"
#include "ublk_bpf_shared.h"

static char bpf_log_buf[1 << 16];

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	size_t n = strlen(bpf_log_buf);

	if (level == LIBBPF_DEBUG)
		return 0;
	if (n < sizeof(bpf_log_buf) - 1)
		vsnprintf(bpf_log_buf + n, sizeof(bpf_log_buf) - n, fmt, ap);
	return 0;
}

static void print_bpf_log(void)
{
	char *line, *save = NULL;

	for (line = strtok_r(bpf_log_buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		ublk_err("bpf: %s", line);
	bpf_log_buf[0] = 0;
}

static int resolve_path(const char *name, char *path, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (strchr(name, '/')) {
		snprintf(path, len, "%s", name);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	if (snprintf(path, len, "%s/ublk_%s.bpf.o", exe, name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* mark the chunks of [off, off + len) in srv_written */
static int mark_written(struct ublk_dev *dev, uint64_t off, uint64_t len)
{
	uint64_t c, first, last;
	uint8_t one = 1;

	if (!len)
		return 0;
	first = off / UBLK_BPF_CHUNK;
	last = (off + len - 1) / UBLK_BPF_CHUNK;
	for (c = first; c <= last && c < dev->bpf_nr_chunks; c++) {
		uint32_t key = c;

		if (bpf_map_update_elem(dev->bpf_written_fd, &key, &one,
					BPF_ANY))
			return -errno;
	}
	return 0;
}

/* the chunks where a backing file of a loop target has data */
static int mark_file_data(struct ublk_dev *dev)
{
	struct ublk_file *f = &dev->files[0];
	off_t data = 0, hole;
	int ret;

	if (dev->cfg.type != UBLK_TGT_LOOP) {
		ublk_err("bpf: srv_written is for the loop target");
		return -EINVAL;
	}
	for (;;) {
		data = lseek(f->fd, data, SEEK_DATA);
		if (data < 0 || (uint64_t)data >= f->size)
			break;
		hole = lseek(f->fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if ((uint64_t)hole > f->size)
			hole = f->size;
		ret = mark_written(dev, data, hole - data);
		if (ret)
			return ret;
		data = hole;
	}
	if (data < 0 && errno != ENXIO)
		return -errno;
	return 0;
}

/* the name of the struct of struct_ops map @map */
static const char *st_ops_type(struct bpf_object *obj, struct bpf_map *map)
{
	const struct btf_type *t;
	struct btf *btf = bpf_object__btf(obj);

	if (!btf)
		return "";
	t = btf__type_by_id(btf, bpf_map__btf_value_type_id(map));
	return t ? btf__name_by_offset(btf, t->name_off) : "";
}

/* give struct_ops map @map the id of the device's ops */
static int set_ops_id(struct ublk_dev *dev, const char *path,
		      struct bpf_map *map)
{
	size_t size;
	uint32_t *id;

	id = bpf_map__initial_value(map, &size);
	if (!id || size < sizeof(*id)) {
		ublk_err("bpf: %s: struct_ops map %s has no data", path,
			 bpf_map__name(map));
		return -EINVAL;
	}
	*id = dev->bpf_ops_id;
	return 0;
}

/* where the global @name of the object's read-only data is: its bytes */
static void *rodata_var(struct bpf_object *obj, const char *name,
			size_t *size)
{
	const struct btf_var_secinfo *vsi;
	const struct btf_type *sec, *var;
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map;
	const char *mname;
	size_t msize;
	char *data;
	int id, i;

	if (!btf)
		return NULL;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return NULL;
	bpf_object__for_each_map(map, obj) {
		mname = bpf_map__name(map);
		if (bpf_map__is_internal(map) && strlen(mname) >= 7 &&
		    !strcmp(mname + strlen(mname) - 7, ".rodata"))
			break;
	}
	if (!map)
		return NULL;
	data = bpf_map__initial_value(map, &msize);
	sec = btf__type_by_id(btf, id);
	vsi = btf_var_secinfos(sec);
	for (i = 0; data && i < btf_vlen(sec); i++, vsi++) {
		var = btf__type_by_id(btf, vsi->type);
		if (strcmp(btf__name_by_offset(btf, var->name_off), name) ||
		    vsi->offset + vsi->size > msize)
			continue;
		*size = vsi->size;
		return data + vsi->offset;
	}
	return NULL;
}

static const char *layout_target_name(unsigned int target)
{
	switch (target) {
	case UBLK_BPF_LAYOUT_STRIPE:
		return "stripe";
	case UBLK_BPF_LAYOUT_CONCAT:
		return "concat";
	}
	return "unknown";
}

/*
 * The layout of a program over several files: refused for a device of
 * another target, else the device's written in it.  -ENOENT if the
 * object has none.
 */
static int set_layout(struct ublk_dev *dev, struct bpf_object *obj,
		      const char *path)
{
	unsigned int want = 0, i;
	struct ublk_bpf_layout *l;
	uint64_t end = 0;
	size_t size = 0;

	l = rodata_var(obj, "layout", &size);
	if (!l)
		return -ENOENT;
	if (size != sizeof(*l)) {
		ublk_err("bpf: %s: layout is %zu bytes, not %zu", path, size,
			 sizeof(*l));
		return -EINVAL;
	}
	if (dev->cfg.type == UBLK_TGT_STRIPE)
		want = UBLK_BPF_LAYOUT_STRIPE;
	else if (dev->cfg.type == UBLK_TGT_CONCAT)
		want = UBLK_BPF_LAYOUT_CONCAT;
	if (l->target != want) {
		ublk_err("bpf: %s is a program of the %s target, not of %s",
			 path, layout_target_name(l->target), dev->ops->name);
		return -EINVAL;
	}
	/* ublk add allows no more with --bpf */
	if (dev->nr_files > UBLK_BPF_LAYOUT_FILES) {
		ublk_err("bpf: %s: %u files, the layout has room for %d",
			 path, dev->nr_files, UBLK_BPF_LAYOUT_FILES);
		return -E2BIG;
	}
	l->nr_files = dev->nr_files;
	while (l->chunk_shift < 63 && (1ULL << l->chunk_shift) < dev->cfg.chunk)
		l->chunk_shift++;
	for (i = 0; i < dev->nr_files; i++) {
		end += dev->files[i].size;
		l->end[i] = end;
	}
	return 0;
}

int ublk_bpf_load(struct ublk_dev *dev)
{
	char path[PATH_MAX];
	struct bpf_map *map, *ops = NULL, *aio_ops = NULL;
	struct bpf_object *obj;
	int ret;

	libbpf_set_print(libbpf_print);
	ret = resolve_path(dev->cfg.bpf, path, sizeof(path));
	if (ret)
		return ret;
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		ret = -errno;
		print_bpf_log();
		ublk_err("bpf: %s: %s", path, strerror(-ret));
		return ret;
	}
	bpf_object__for_each_map(map, obj) {
		struct bpf_map **slot = &ops;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		if (!strcmp(st_ops_type(obj, map), "bpf_aio_complete_ops"))
			slot = &aio_ops;
		if (*slot) {
			ublk_err("bpf: %s: more than one struct_ops map of type %s",
				 path, st_ops_type(obj, map));
			ret = -EINVAL;
			goto err;
		}
		*slot = map;
	}
	if (!ops) {
		ublk_err("bpf: %s: no struct ublk_bpf_ops map", path);
		ret = -EINVAL;
		goto err;
	}
	ret = set_ops_id(dev, path, ops);
	if (!ret && aio_ops)
		ret = set_ops_id(dev, path, aio_ops);
	if (ret)
		goto err;
	ret = set_layout(dev, obj, path);
	if (ret == -ENOENT && aio_ops && dev->nr_files > 1) {
		ublk_err("bpf: %s: bpf aio on file 0 only (no layout), not for the %s target",
			 path, dev->ops->name);
		ret = -EINVAL;
	}
	if (ret && ret != -ENOENT)
		goto err;
	ret = 0;

	map = bpf_object__find_map_by_name(obj, "srv_written");
	if (!map) {
		map = bpf_object__find_map_by_name(obj, "srv_mapped");
		dev->bpf_hand_back = map != NULL;
	}
	if (map) {
		dev->bpf_nr_chunks = (dev->dev_size + UBLK_BPF_CHUNK - 1) /
				     UBLK_BPF_CHUNK;
		ret = bpf_map__set_max_entries(map, dev->bpf_nr_chunks);
		if (ret)
			goto err_log;
	}
	ret = bpf_object__load(obj);
	if (ret)
		goto err_log;
	if (map) {
		dev->bpf_written_fd = bpf_map__fd(map);
		ret = mark_file_data(dev);
		if (ret) {
			ublk_err("bpf: marking the backing file's data: %s",
				 strerror(-ret));
			goto err;
		}
	}
	/* the completions first: the device starts with both */
	if (aio_ops) {
		dev->bpf_aio_link = bpf_map__attach_struct_ops(aio_ops);
		if (!dev->bpf_aio_link) {
			ret = -errno;
			goto err_log;
		}
	}
	dev->bpf_link = bpf_map__attach_struct_ops(ops);
	if (!dev->bpf_link) {
		ret = -errno;
		goto err_log;
	}
	dev->bpf_obj = obj;
	ublk_log("dev %d: BPF %s registered as ops %u", dev->info.dev_id,
		 path, dev->bpf_ops_id);
	return 0;

err_log:
	print_bpf_log();
	ublk_err("bpf: %s: %s", path, strerror(-ret));
	if (dev->bpf_aio_link) {
		bpf_link__destroy(dev->bpf_aio_link);
		dev->bpf_aio_link = NULL;
	}
err:
	dev->bpf_written_fd = -1;
	dev->bpf_hand_back = false;
	bpf_object__close(obj);
	return ret;
}

/*
 * Unregister the ops: the device's I/O goes to this server from now on.
 * The object and its maps stay: queue threads may be marking chunks.
 */
void ublk_bpf_unload(struct ublk_dev *dev)
{
	if (!dev->bpf_link)
		return;
	bpf_link__destroy(dev->bpf_link);
	dev->bpf_link = NULL;
	if (dev->bpf_aio_link) {
		bpf_link__destroy(dev->bpf_aio_link);
		dev->bpf_aio_link = NULL;
	}
	ublk_log("dev %d: BPF ops %u unregistered", dev->info.dev_id,
		 dev->bpf_ops_id);
}

/* the first line of sysfs file @path in @buf, without its newline */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		ret = -EIO;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return ret;
}

/*
 * On a UBLK_F_BPF device, called from the server's main loop: once the
 * kernel detached the device's ops (/sys/block/ublkbN/bpf/attached is 0:
 * ejected, or unregistered), log it with the kernel's exit_reason, once.
 * Returns the poll timeout until the next look: 200 ms, or -1 (none)
 * once logged or without UBLK_F_BPF.
 */
int ublk_bpf_watch(struct ublk_dev *dev)
{
	char path[PATH_MAX], buf[256];
	int id = dev->info.dev_id;

	if (!(dev->info.flags & UBLK_F_BPF) || dev->bpf_detach_logged)
		return -1;
	snprintf(path, sizeof(path), "/sys/block/ublkb%d/bpf/attached", id);
	if (read_line(path, buf, sizeof(buf)) || strcmp(buf, "0"))
		return 200;
	snprintf(path, sizeof(path), "/sys/block/ublkb%d/bpf/exit_reason", id);
	if (read_line(path, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "exit_reason unreadable");
	ublk_log("dev %d: BPF ops detached (%s): the server serves every I/O",
		 id, buf);
	dev->bpf_detach_logged = true;
	return -1;
}

/*
 * The handback target (srv_mapped): true if the server hands @iod back,
 * a write, write-zeroes or discard BPF redirected because a chunk of it
 * was not mapped: its chunks are mapped now.  False for what the server
 * serves itself: reads, and I/O whose chunks were all mapped already
 * (BPF redirected it all the same: the device has no ops any more, and
 * handing it back again would send it round for ever), or if the map
 * cannot be written.
 */
bool ublk_bpf_hand_back(struct ublk_dev *dev, const struct ublksrv_io_desc *iod)
{
	unsigned int op = ublksrv_get_op(iod);
	uint64_t off = iod->start_sector << 9;
	uint64_t len = (uint64_t)iod->nr_sectors << 9;
	uint64_t c, first, last;
	bool mapped_now = false;
	uint8_t v, one = 1;

	if (!dev->bpf_hand_back || !len)
		return false;
	if (op != UBLK_IO_OP_WRITE && op != UBLK_IO_OP_WRITE_ZEROES &&
	    op != UBLK_IO_OP_DISCARD)
		return false;
	first = off / UBLK_BPF_CHUNK;
	last = (off + len - 1) / UBLK_BPF_CHUNK;
	for (c = first; c <= last && c < dev->bpf_nr_chunks; c++) {
		uint32_t key = c;

		if (bpf_map_lookup_elem(dev->bpf_written_fd, &key, &v))
			return false;
		if (v)
			continue;
		if (bpf_map_update_elem(dev->bpf_written_fd, &key, &one,
					BPF_ANY))
			return false;
		mapped_now = true;
	}
	return mapped_now;
}

/* Before the result of @iod is committed: mark what it wrote. */
int ublk_bpf_io_done(struct ublk_dev *dev, const struct ublksrv_io_desc *iod,
		     int res)
{
	unsigned int op = ublksrv_get_op(iod);

	if (dev->bpf_written_fd < 0 || res < 0)
		return 0;
	if (op != UBLK_IO_OP_WRITE && op != UBLK_IO_OP_WRITE_ZEROES &&
	    op != UBLK_IO_OP_DISCARD)
		return 0;
	return mark_written(dev, iod->start_sector << 9,
			    (uint64_t)iod->nr_sectors << 9);
}
