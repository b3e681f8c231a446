// The program's version: what each node registers (`jumphost nodes list`), and what doctor compares
// across the nodes sharing one database (a version mix during a rolling upgrade is a warning).
export const JUMPHOST_VERSION = "0.9.0";
