"""What knows the images: the folder, their files and their titles."""
