<?php
// Records the attempt, then dies with a fatal error: PHP-FPM answers 500 and reports the
// error on the FastCGI stderr stream.
$key = $_SERVER['HTTP_IDEMPOTENCY_KEY'] ?? '';
file_put_contents($_SERVER['ORDERS_FILE'], "fatal-attempt key=$key\n", FILE_APPEND | LOCK_EX);
this_function_does_not_exist();
