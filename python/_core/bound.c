/* Pre-bound write methods (core.h). */
#include "core.h"

typedef struct {
    PyObject_HEAD PyObject *owner; /* borrowed (see core.h); NULL once the owner is freed */
    PyCFunction fn;                /* the owner type's write */
} Target;

static PyType_Slot Target_slots[] = {
    {Py_tp_doc, (void *)"What the pre-bound write() of a syncstream buffer calls."},
    {0, NULL},
};

static PyType_Spec Target_spec = {
    .name = "syncstream._core._BoundWrite",
    .basicsize = sizeof(Target),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Target_slots,
};

static PyObject *target_type;
static PyObject *str_write; /* interned: print() looks "write" up by an interned str */

PyObject *ss__py_bound_call(PyObject *target, PyObject *arg)
{
    Target *t = (Target *)target;
    PyObject *owner = t->owner;
    if (!owner) {
        PyErr_SetString(PyExc_ValueError, "syncstream: the buffer of this write() was freed");
        return NULL;
    }
    /* The call may release the GIL: the owner must outlive it. */
    Py_INCREF(owner);
    PyObject *res = t->fn(owner, arg);
    Py_DECREF(owner);
    return res;
}

PyObject *ss__py_bind_write(PyObject *owner, PyObject *base_type, PyMethodDef *def, PyCFunction fn)
{
    if (!str_write && !(str_write = PyUnicode_InternFromString("write")))
        return NULL;
    if (!target_type && !(target_type = PyType_FromSpec(&Target_spec)))
        return NULL;
    /* A subclass's own write (or anything else of that name) wins. */
    PyObject *mine = PyObject_GetAttr((PyObject *)Py_TYPE(owner), str_write);
    PyObject *base = mine ? PyObject_GetAttr(base_type, str_write) : NULL;
    Py_XDECREF(mine);
    Py_XDECREF(base);
    if (!base)
        return NULL;
    if (mine != base)
        return Py_NewRef(Py_None);
    Target *t = PyObject_New(Target, (PyTypeObject *)target_type);
    if (!t)
        return NULL;
    t->owner = owner;
    t->fn = fn;
    PyObject *func = PyCFunction_NewEx(def, (PyObject *)t, NULL);
    Py_DECREF(t);
    return func;
}

void ss__py_unbind(PyObject **bound)
{
    PyObject *func = *bound;
    if (func && func != Py_None)
        ((Target *)PyCFunction_GetSelf(func))->owner = NULL;
    *bound = NULL;
    Py_XDECREF(func);
}

PyObject *ss__py_bound_getattr(PyObject *owner, PyObject *name, PyObject *bound)
{
    if (name == str_write && bound && bound != Py_None)
        return Py_NewRef(bound);
    return PyObject_GenericGetAttr(owner, name);
}

int ss__py_bound_setattr(PyObject *owner, PyObject *name, PyObject *value, PyObject **bound)
{
    /* An instance's own write (set, or deleted again) is looked up as usual. */
    if (*bound && PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "write") == 0)
        ss__py_unbind(bound);
    return PyObject_GenericSetAttr(owner, name, value);
}
