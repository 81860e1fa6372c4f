/*
 * What the files of the extension module syncstream._core share.
 *
 * The module is written against the limited C API of Python 3.11: its types
 * are heap types made from PyType_Spec at import (module.c calls each type's
 * ss__py_*_add function) and kept in static variables, so the module supports
 * one interpreter per process (no sub-interpreters), as the library's objects
 * cannot be shared between interpreters anyway.
 *
 * Adding a type: a file NAME.c defining `int ss__py_NAME_add(PyObject *module)`
 * (create the type with PyType_FromSpec, PyModule_AddObjectRef it), declared
 * below, listed in module.c's table and in python/meson.build.
 *
 * Every function here is called with the GIL held.
 */
#ifndef SS_PY_CORE_H
#define SS_PY_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>

#include <syncstream/record.h>

/* Method tables hold every function as a PyCFunction (getter, setter). */
#define METH(f) ((PyCFunction)(void (*)(void))(f))
#define GETTER(f) ((getter)(void (*)(void))(f))
#define SETTER(f) ((setter)(void (*)(void))(f))

/* The types, one file each. */
int ss__py_linebuf_add(PyObject *module);
int ss__py_procbuf_add(PyObject *module);
int ss__py_cursor_add(PyObject *module);
int ss__py_capture_add(PyObject *module);

/*
 * linebuf.c: the ss_linebuf of a LineBuffer (or subclass) object, borrowed (it
 * lives as long as obj); NULL with TypeError for another object, ValueError
 * when __init__ never ran.
 */
struct ss_linebuf *ss__py_linebuf_get(PyObject *obj);
/* cursor.c: LineBuffer.records(), iter(LineBuffer), LineBuffer.follow(). */
PyObject *ss__py_linebuf_records(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *ss__py_linebuf_iter(PyObject *self);
PyObject *ss__py_linebuf_follow(PyObject *self, PyObject *args, PyObject *kwargs);
int ss__py_filebuf_add(PyObject *module);
int ss__py_host_add(PyObject *module);
int ss__py_stream_add(PyObject *module);

/*
 * fork.c: the fork generation, bumped in a fork child (a pthread_atfork
 * handler), so that an object tells it is in a fork child without a system
 * call (getpid() is one, and costs about a microsecond on a paravirtual VM:
 * too much for every write). ss__py_fork_watch() installs the handler (once,
 * whoever calls it; a type's add function): 0, or -1 with MemoryError.
 */
extern unsigned long ss__py_fork_gen;
int ss__py_fork_watch(void);

/*
 * bound.c: a pre-bound write method. print() looks up file.write for each of
 * its write calls (8 a line), and for a method of a C type each lookup makes
 * a new bound-method object. A buffer type whose tp_getattro and tp_setattro
 * are ss__py_bound_getattr and ss__py_bound_setattr returns one kept
 * bound-method object instead, found before any dictionary is searched. Its
 * __self__ is a small object that points back at the buffer without a
 * reference: a reference would make a cycle (buffer -> method -> buffer) that
 * only the cyclic GC frees, delaying the close of the buffer's writers and
 * files.
 *
 * ss__py_bind_write(owner, base_type, def, fn), at the end of __init__: def
 * is a static METH_O PyMethodDef named "write" whose ml_meth is
 * ss__py_bound_call; calling the bound method calls fn(owner, arg). Returns a
 * new reference to keep (the bound method), Py_None when type(owner).write is
 * not base_type's (a subclass's own write: nothing is bound), or NULL with an
 * exception. The owner's dealloc calls ss__py_unbind() (a bound method kept
 * elsewhere then raises ValueError); setting or deleting the instance's own
 * write unbinds it too, and the usual lookup takes over. Replacing the class's
 * write later does not reach existing objects.
 */
PyObject *ss__py_bind_write(PyObject *owner, PyObject *base_type, PyMethodDef *def, PyCFunction fn);
PyObject *ss__py_bound_call(PyObject *target, PyObject *arg);
void ss__py_unbind(PyObject **bound);
PyObject *ss__py_bound_getattr(PyObject *owner, PyObject *name, PyObject *bound);
int ss__py_bound_setattr(PyObject *owner, PyObject *name, PyObject *value, PyObject **bound);

/*
 * errors.c: raise the Python exception for a library error code and return
 * NULL, so that `return ss__py_error(rc);` ends a method. what names the object
 * ("LineBuffer") in the message. The mapping:
 *   SS_ECLOSED          OSError(EBADF), as sync-stream raises OSError for a
 *                       closed stream
 *   -EINVAL, SS_ETOOBIG ValueError
 *   -ENOMEM             MemoryError
 *   -ETIMEDOUT          TimeoutError
 *   other -errno        OSError(errno) (its subclass: FileNotFoundError...)
 *   other SS_E*         OSError with ss_strerror()'s text and no errno
 */
PyObject *ss__py_error(int rc, const char *what);
/* The int-returning form, for functions that report failure with -1. */
int ss__py_error_int(int rc, const char *what);

/*
 * text.c: a str argument as UTF-8 bytes. Lone surrogates (from
 * surrogateescape, as os.fsdecode makes them) become the bytes they stand for.
 * On success *ret_data and *ret_len stay valid while *ret_keep (a new reference,
 * possibly NULL; release with Py_XDECREF) and obj live. Anything but a str
 * raises TypeError naming what. Returns 0 or -1.
 */
int ss__py_utf8(PyObject *obj, const char *what, const char **ret_data, Py_ssize_t *ret_len,
                PyObject **ret_keep);
/* TypeError "syncstream: <what> must be <expected>, not <type of obj>". */
void ss__py_type_error(const char *what, const char *expected, PyObject *obj);
/* Record bytes as a str: UTF-8, undecodable bytes as surrogateescape. */
PyObject *ss__py_str(const char *text, size_t len);

/*
 * records.c: records as sync-stream's read() returns them. A line is a str; a
 * warning or an error is a syncstream.base.GroupedMessage (its lines in data,
 * type "warning" or "error"), made by GroupedMessage._from_record, which
 * syncstream.base registers with _core._register_message_type at import.
 */
PyObject *ss__py_item(const ss_record *rec);
/* The items of set, oldest first, then extra (a new reference, stolen; may be
 * NULL) as one more item: a tuple. */
PyObject *ss__py_items(const ss_records *set, PyObject *extra);
/* _core._register_message_type(cls). */
PyObject *ss__py_register_message_type(PyObject *module, PyObject *cls);
/* Drop the registered type (module teardown). */
void ss__py_records_clear(void);

/*
 * typeutil.c: what the types share.
 *
 * ss__py_not_initialized: ValueError "syncstream: <what>.__init__() was not
 * called", for an object made with cls.__new__(cls) and used as it is.
 * ss__py_oserror: raise OSError(err, message) (its errno subclass).
 */
void ss__py_not_initialized(const char *what);
void ss__py_oserror(int err, const char *message);
/* read()'s size: n items, SS_READ_ALL for None (obj NULL too) or a huge int,
 * 0 for size <= 0; TypeError for anything but an int. Returns 0 or -1. */
int ss__py_size(PyObject *obj, size_t *ret);
/* A buffer's maxlen argument (NULL: the default, 20): sync-stream's TypeError
 * for anything but a positive int, ValueError naming what beyond the
 * library's limit. Returns 0 or -1. */
int ss__py_maxlen(PyObject *obj, const char *what, size_t *ret);
/* _append()'s kind: "warning" or "error", else ValueError. Returns 0 or -1. */
int ss__py_kind(const char *name, ss_kind *ret);
/* The file-protocol methods of an object that is not a real file (put
 * SS_PY_NOT_A_FILE_METHODS in its method table): seekable() and isatty()
 * answer False, fileno() and seek() raise OSError naming the object's type. */
PyObject *ss__py_false(PyObject *self, PyObject *unused);
PyObject *ss__py_unsupported(PyObject *self, PyObject *args);
#define SS_PY_NOT_A_FILE_METHODS                                                                   \
    {"seekable", ss__py_false, METH_NOARGS, "seekable() -> bool\n--\n\nFalse: no random access."}, \
        {"isatty", ss__py_false, METH_NOARGS, "isatty() -> bool\n--\n\nFalse: not a terminal."},   \
        {"fileno", ss__py_unsupported, METH_NOARGS,                                                \
         "fileno() -> NoReturn\n--\n\nRaise OSError: no file descriptor."},                        \
        {"seek", ss__py_unsupported, METH_VARARGS,                                                 \
         "seek(*args) -> NoReturn\n--\n\nRaise OSError: no random access."}
/* nb_bool of a buffer: true even when empty, as a file is (and as
 * sync-stream's buffers are). */
int ss__py_true(PyObject *self);
/* The end of every type's tp_dealloc: free the object, release its type. */
void ss__py_free(PyObject *self);
/* Create the type of spec and add it to module under the last part of its
 * name; *ret_type (if not NULL) gets a new reference. Returns 0 or -1. */
int ss__py_add_type(PyObject *module, PyType_Spec *spec, PyObject **ret_type);

#endif
