'use strict';
// The users suite (suites/users.js) with kurrentdb; see README.md.
require('./clients').useClient('kurrentdb');
require('./suites/users');
