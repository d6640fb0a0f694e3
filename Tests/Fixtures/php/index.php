<?php
// The app's front controller, as a framework has it: nginx reaches it directly for the
// site and through Idem for /api/. Does nothing else, so timings measure the layers.
header('Content-Type: application/json');
echo json_encode(['ok' => true, 'uri' => $_SERVER['REQUEST_URI']]);
