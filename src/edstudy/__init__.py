"""edstudy."""
