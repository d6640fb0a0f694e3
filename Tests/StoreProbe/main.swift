// placeholder: written by the LMDB store work
