"""Facebook (Graph API through facebook-sdk): Page comments, visitor posts, Messenger, the webhook."""
