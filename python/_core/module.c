/*
 * The extension module syncstream._core: the types (one file each), registered
 * from the table below, and the module-level functions.
 */
#include "core.h"

#include <syncstream/common.h>

/* Each type's file adds its type to the module; a new type is one line here. */
static int (*const add_types[])(PyObject *module) = {
    ss__py_linebuf_add, ss__py_cursor_add, ss__py_capture_add, ss__py_procbuf_add,
    ss__py_filebuf_add, ss__py_host_add,   ss__py_stream_add,
};

static PyMethodDef module_methods[] = {
    {"_register_message_type", ss__py_register_message_type, METH_O,
     "_register_message_type(cls) -> None\n--\n\n"
     "Internal: the class (syncstream.base.GroupedMessage) whose _from_record(kind,\n"
     "text) makes warning and error records into Python objects."},
    {NULL, NULL, 0, NULL},
};

static void module_free(void *module)
{
    ss__py_records_clear();
}

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "syncstream._core",
    .m_doc = "The C core of the syncstream package; use the classes syncstream exports.",
    .m_size = -1,
    .m_methods = module_methods,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__core(void);

PyMODINIT_FUNC PyInit__core(void)
{
    PyObject *module = PyModule_Create(&core_module);
    if (!module)
        return NULL;
    for (size_t i = 0; i < sizeof(add_types) / sizeof(add_types[0]); i++) {
        if (add_types[i](module) < 0) {
            Py_DECREF(module);
            return NULL;
        }
    }
    if (PyModule_AddStringConstant(module, "library_version", ss_version()) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
