package sqlstore

// MySQLDriverDSN lets the external tests open a plain database/sql
// connection (to create and drop their own databases).
var MySQLDriverDSN = mysqlDriverDSN
