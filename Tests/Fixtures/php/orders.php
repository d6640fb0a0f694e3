<?php
// Creates an order: appends one line per execution to $_SERVER['ORDERS_FILE'] (set by the
// route's "params" option), so a test counts how often the application really ran.
// ?sleepMs=N makes it slow, to hold the idempotency claim while duplicates arrive.
if (isset($_GET['sleepMs'])) {
    usleep((int)$_GET['sleepMs'] * 1000);
}
$key = $_SERVER['HTTP_IDEMPOTENCY_KEY'] ?? '';
$id = 'ord_' . bin2hex(random_bytes(8));
file_put_contents($_SERVER['ORDERS_FILE'], "$id key=$key\n", FILE_APPEND | LOCK_EX);
http_response_code(201);
header('Content-Type: application/json');
header("Location: /orders/$id");
setcookie('session', 'sess-' . $id, ['httponly' => true]);
echo json_encode([
    'id' => $id,
    'key' => $key,
    'method' => $_SERVER['REQUEST_METHOD'],
    'uri' => $_SERVER['REQUEST_URI'],
    'order' => json_decode(file_get_contents('php://input'), true),
]);
