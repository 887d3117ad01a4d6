from .teacher_hook import DKDTeacherHook

__all__ = ['DKDTeacherHook']
