/* Records as the Python objects sync-stream's read() returns. */
#include "core.h"

/* syncstream.base.GroupedMessage, registered by that module at import. */
static PyObject *message_type;

PyObject *ss__py_register_message_type(PyObject *module, PyObject *cls)
{
    if (!PyType_Check(cls)) {
        ss__py_type_error("_register_message_type() argument", "a class", cls);
        return NULL;
    }
    PyObject *old = message_type;
    message_type = Py_NewRef(cls);
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

void ss__py_records_clear(void)
{
    Py_CLEAR(message_type);
}

PyObject *ss__py_item(const ss_record *rec)
{
    PyObject *text = ss__py_str(rec->text, rec->len);
    if (!text || rec->kind == SS_KIND_LINE)
        return text;
    if (!message_type) {
        Py_DECREF(text);
        PyErr_SetString(PyExc_RuntimeError,
                        "syncstream: syncstream.base was not imported (no GroupedMessage)");
        return NULL;
    }
    const char *kind = rec->kind == SS_KIND_WARNING ? "warning" : "error";
    return PyObject_CallMethod(message_type, "_from_record", "sN", kind, text);
}

PyObject *ss__py_items(const ss_records *set, PyObject *extra)
{
    Py_ssize_t n = (Py_ssize_t)set->count;
    PyObject *tuple = PyTuple_New(n + (extra ? 1 : 0));
    if (!tuple) {
        Py_XDECREF(extra);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = ss__py_item(&set->items[i]);
        if (!item) {
            Py_DECREF(tuple);
            Py_XDECREF(extra);
            return NULL;
        }
        PyTuple_SetItem(tuple, i, item);
    }
    if (extra)
        PyTuple_SetItem(tuple, n, extra);
    return tuple;
}
