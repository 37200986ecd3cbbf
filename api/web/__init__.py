"""The QA review app: pages served by ``callscope serve`` itself (calls list, call review,
dashboard, sign-in), its sign-in sessions, and its vendored static assets. The pages read and
write through the same ``/v1`` API as every other client."""
