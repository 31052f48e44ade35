"""Instagram (a professional account linked to the Facebook Page) through the Graph API."""
